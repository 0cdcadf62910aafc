"""A run of a date whose digest already went out: that digest stays as it was sent.

Without --force, a second run of a sent date (cron retried, a run by hand that evening, the
scheduler catching up) neither rebuilds the digest nor replaces its archive, and marks only
the sent digest's papers (a run that crashed after the send had not). Papers that came since
(arXiv's next announcement is in the feed from 20:00 US Eastern) are not the sent digest's:
they wait for the next date's digest, and the run says how many.
"""

from __future__ import annotations

from agent.core.wording import plural
from agent.pipeline.fetch import FetchOutcome
from agent.pipeline.run import Run
from agent.pipeline.send import Delivery, daily_key, mark_flushed_digests
from agent.select import Selection
from agent.sources.local import is_sample, sample_only


def kept_as_sent(run: Run, to: Delivery, selection: Selection, fetched: FetchOutcome) -> str | None:
    """What the run says when `to`'s digest of the run's date was sent already (the sent
    ledger has it for every email recipient of the run, or for a webhook when the run emails
    nobody) and --force is not given; None: build it (and send it to whoever it missed). A
    run of the sample day alone is a demo with its own ledger entry, never held back here."""
    if to.force or sample_only(p.source for p in fetched.papers):
        return None
    key = daily_key(run.date, to.reader)
    delivered = run.store.sent_rows(key)
    if not delivered or not _every_recipient(to, {r for _, r, _ in delivered}):
        return None  # not sent, or stopped part-way: the run sends the rest
    to_whom = ", ".join(dict.fromkeys(recipient for _, recipient, _ in delivered))
    said = f"the digest of {run.date.isoformat()} was already sent to {to_whom}; kept as sent"
    # A run that crashed between the send and the marks left them undone: the archived
    # digest is the one sent, so its papers are marked now (marking twice changes nothing).
    mark_flushed_digests(to.settings.home, run.store, [key])
    listed = (*selection.selected, *selection.also_new, *selection.updated)
    papers = [p for p in listed if not is_sample(p.source)]
    had = run.store.digested_on((p.id for p in papers), run.date, to.reader)
    since = sum(1 for p in papers if p.id not in had)
    if since:
        said += f"; {plural(since, 'paper')} not in it will be in the next digest"
    return f"{said} (use --force to rebuild and send it again)"


def _every_recipient(to: Delivery, had: set[str]) -> bool:
    """Every email recipient of the run is in the ledger (when the run emails)."""
    from agent.deliver.core import envelope_address

    wanted = (
        {envelope_address(r).lower() for r in to.settings.email.recipients} if to.email else set()
    )
    return wanted <= had


__all__ = ["kept_as_sent"]
