"""Batch mode end to end through `digest daily --batch`, against the fake OpenAI server's Files
and Batches endpoints: a batch that completes after some polls, one that expires, one that
fails, partial results, one that never finishes (the deadline), a run killed while its batch
was pending (the next run collects it), an endpoint without the Batch API, and re-asks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai
import pydantic
import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.config import LLMSettings, batch_deadline
from agent.store import Store
from agent.summarize.llm.chat import ChatAnswer, ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.factory import Shared, build_chat_models
from agent.summarize.llm.models.batch import BatchStats
from agent.summarize.llm.models.batch.deadline import deadline_at
from agent.summarize.llm.models.batch.lines import line_for, parse_results
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.openai_batches import BatchScript
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.fakes.smtp_server import smtp_server
from tests.llm_answers import answer_from_schema, handler, sample_papers

REPO = Path(__file__).resolve().parents[1]
DATE = "2026-12-01"
KEY = "sk-test-batch-0123456789abcdef"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def srv() -> Any:
    with FakeOpenAIServer(handler=handler(themes=4)) as server:
        yield server


def write_config(tmp_path: Path, srv: FakeOpenAIServer, extra: str = "", **llm: Any) -> Path:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": srv.base_url,
        "api_key": KEY,
        "dialect": "json_schema",
        "local_defaults": False,  # the fake server stands for a remote endpoint
        "timeout_seconds": 5.0,
        "max_attempts": 2,
        "max_retry_wait_seconds": 0.0,
        "batch_poll_seconds": 0.02,
    }
    values.update(llm)
    lines = [f"home = {json.dumps(str(tmp_path / 'home'))}", "[llm]"]
    lines += [f"{name} = {json.dumps(value)}" for name, value in values.items()]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "digest.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def daily(config: Path, *args: str) -> Any:
    argv = ["daily", "--config", str(config), "--source", "sample", "--date", DATE, *args]
    return CliRunner().invoke(main, argv)


def kept(tmp_path: Path) -> Path:
    """The day's folder in the archive: a digest of the sample day alone is kept apart."""
    return tmp_path / "home" / "archive" / DATE / "sample"


def digest_json(tmp_path: Path) -> dict[str, Any]:
    path = kept(tmp_path) / "digest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def email_text(tmp_path: Path) -> str:
    """The plain-text part of the day's email as archived."""
    return (kept(tmp_path) / "digest.txt").read_text(encoding="utf-8")


def blurb_engines(data: dict[str, Any]) -> set[str]:
    return {blurb["engine"] for theme in data["themes"] for blurb in theme["papers"]}


def batch_lines(srv: FakeOpenAIServer, batch_id: str) -> int:
    return int(srv.batches.batch(batch_id)["request_counts"]["total"])


def text(result: Any) -> str:
    return " ".join(result.output.split())


# -- the happy path, and what it costs ------------------------------------------------------------


def test_a_batch_run_answers_every_stage_by_batch_at_half_price(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("complete", polls=2), BatchScript("complete", polls=3))
    result = daily(write_config(tmp_path / "b", srv), "--batch", "--no-send")
    assert result.exit_code == 0, result.output
    data = digest_json(tmp_path / "b")
    batch = data["model"]["batch"]
    grouping, blurbs = srv.batches.creates
    lines = batch_lines(srv, grouping) + batch_lines(srv, blurbs)
    assert batch_lines(srv, grouping) == 1 and batch_lines(srv, blurbs) > 1
    assert srv.chat_requests == [], "no direct call"
    assert srv.batches.retrieves >= 2 + 1 + 3 + 1  # in_progress polls, then the final one
    assert batch["batches"] == 2 and batch["requests"] == lines and batch["direct"] == 0
    assert batch["price_factor"] == 0.5 and batch["notes"] == []
    assert batch["cost_usd"] == pytest.approx(batch["list_price_usd"] / 2, abs=2e-6)
    assert data["usage"]["cost_usd"] == pytest.approx(batch["cost_usd"], abs=2e-6)
    assert data["usage"]["calls"] == lines
    assert blurb_engines(data) == {"llm"} and data["degraded"] == []
    assert f"Batch engine: {lines} requests answered in 2 batches" in text(result)
    assert "at 50% of the list price" in text(result)
    footer = " ".join(email_text(tmp_path / "b").split())
    assert (
        f"{lines:,} of {lines:,} answers through the provider's Batch API at 50% of the price "
        f"(${batch['cost_usd']:.4f} instead of ${batch['list_price_usd']:.4f})"
    ) in footer

    with FakeOpenAIServer(handler=handler(themes=4)) as direct_srv:  # the same day, direct
        result = daily(write_config(tmp_path / "d", direct_srv), "--no-send")
        assert result.exit_code == 0, result.output
        direct = digest_json(tmp_path / "d")
        assert direct_srv.batches.creates == [] and len(direct_srv.chat_requests) == lines
    assert direct["model"]["batch"] is None
    assert "Batch API" not in email_text(tmp_path / "d")
    assert direct["usage"]["cost_usd"] == pytest.approx(batch["list_price_usd"], abs=2e-6)
    assert direct["usage"]["input_tokens"] == data["usage"]["input_tokens"]


def test_the_batch_file_holds_chat_requests_in_the_configured_dialect(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    result = daily(write_config(tmp_path, srv, batch=True), "--no-send")
    assert result.exit_code == 0, result.output
    [upload, *_] = [r for r in srv.requests if r.path.endswith("/files")]
    create = next(r for r in srv.requests if r.path.endswith("/batches"))
    assert create.body["endpoint"] == "/v1/chat/completions"
    assert create.body["completion_window"] == "24h"
    assert b'"purpose"' in upload.raw_body or b'name="purpose"' in upload.raw_body
    file_id = create.body["input_file_id"]
    rows = [json.loads(line) for line in srv.batches.content(file_id).splitlines()]
    assert [row["url"] for row in rows] == ["/v1/chat/completions"]
    body = rows[0]["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"]["type"] == "json_schema"
    assert rows[0]["custom_id"] == line_for(body).custom_id
    assert KEY not in srv.batches.content(file_id).decode()


# -- outcomes short of complete -------------------------------------------------------------------


def test_an_expired_batch_uses_what_it_answered_and_asks_the_rest_directly(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("complete"), BatchScript("expire", polls=1, done_lines=3))
    result = daily(write_config(tmp_path, srv, batch=True), "--no-send")
    assert result.exit_code == 0, result.output
    data = digest_json(tmp_path)
    batch = data["model"]["batch"]
    total = batch_lines(srv, srv.batches.creates[1])
    assert len(srv.chat_requests) == total - 3 == batch["direct"]
    assert batch["requests"] == 1 + 3
    assert blurb_engines(data) == {"llm"}
    [note] = batch["notes"]
    assert "expired: 3 of" in note and "batch_expired" not in note
    assert "could not be executed before the completion window expired" in note
    assert f"{total - 3} sent as direct calls" in note
    assert "expired: 3 of" in text(result)


def test_a_failed_batch_goes_direct_and_the_next_stage_batches_again(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("fail"), BatchScript("complete"))
    result = daily(write_config(tmp_path, srv, batch=True), "--no-send")
    assert result.exit_code == 0, result.output
    batch = digest_json(tmp_path)["model"]["batch"]
    [grouping] = srv.chat_requests
    assert request_schema(grouping.body)[0] is not None
    assert grouping.body["response_format"]["json_schema"]["name"] == "grouping"
    assert batch["batches"] == 2 and batch["direct"] == 1
    assert batch["requests"] == batch_lines(srv, srv.batches.creates[1])
    assert any(
        "failed: 0 of 1 request answered (Scripted batch failure.)" in n for n in batch["notes"]
    )


def test_partial_results_send_only_the_failed_lines_directly(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("complete"), BatchScript("partial"))
    result = daily(write_config(tmp_path, srv, batch=True), "--no-send")
    assert result.exit_code == 0, result.output
    data = digest_json(tmp_path)
    total = batch_lines(srv, srv.batches.creates[1])
    failed = total // 2  # every other line
    assert len(srv.chat_requests) == failed == data["model"]["batch"]["direct"]
    assert data["model"]["batch"]["requests"] == 1 + total - failed
    assert blurb_engines(data) == {"llm"} and data["degraded"] == []
    assert any("Scripted line failure" in n for n in data["model"]["batch"]["notes"])


def test_past_the_deadline_the_batch_is_cancelled_and_the_email_goes_out(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("forever"))
    with smtp_server() as smtp:
        email = (
            '[email]\nsmtp_host = "127.0.0.1"\n'
            f'smtp_port = {smtp.port}\nsecurity = "none"\n'
            'sender = "digest@example.org"\nrecipients = ["reader@example.org"]\n'
        )
        config = write_config(tmp_path, srv, email, batch=True, batch_deadline="1s")
        result = daily(config)
        assert result.exit_code == 0, result.output
        [message] = smtp.messages
        assert message.rcpt_tos == ["reader@example.org"]
    data = digest_json(tmp_path)
    [only] = srv.batches.creates
    assert srv.batches.cancels == [only] and srv.batches.lines_run == 0
    batch = data["model"]["batch"]
    assert batch["batches"] == 1 and batch["requests"] == 0
    assert batch["direct"] == len(srv.chat_requests) > 1  # grouping, blurbs and headline
    assert any("the batch deadline 1 s after the start passed" in n for n in batch["notes"])
    assert blurb_engines(data) == {"llm"}
    with Store.open(tmp_path / "home") as store:
        assert store.pending_batches(srv.base_url) == [], "a cancelled batch is not resumed"


def test_an_endpoint_without_the_batch_api_is_called_directly(tmp_path: Path) -> None:
    """The note names the endpoint without its password (a vLLM behind basic auth): the note
    is printed and kept in digest.json."""
    password = "Sup3rSecretPassw0rd"
    with FakeOpenAIServer(handler=handler(themes=4), batch_api=False) as srv:
        with_password = srv.base_url.replace("http://", f"http://digest:{password}@", 1)
        config = write_config(tmp_path, srv, batch=True, base_url=with_password)
        result = daily(config, "--no-send")
        assert result.exit_code == 0, result.output
        uploads = [r for r in srv.requests if r.path.endswith("/files")]
        assert [r.outcome for r in uploads] == ["http 404"], "asked once, not per stage"
        assert srv.chat_requests
    batch = digest_json(tmp_path)["model"]["batch"]
    assert batch["batches"] == 0 and batch["direct"] == len(srv.chat_requests)
    [note] = batch["notes"]
    assert "has no Batch API (HTTP 404); direct calls from then on" in note
    assert blurb_engines(digest_json(tmp_path)) == {"llm"}
    archive = (kept(tmp_path) / "digest.json").read_text("utf-8")
    assert password not in archive and password not in result.output


def test_a_password_in_the_base_url_is_not_kept_in_the_state(tmp_path: Path) -> None:
    """The dialect memory (and the pending batches) are keyed by the endpoint: its
    user:password@ and query are no part of the key, so the state database never holds them."""
    import sqlite3

    from agent.summarize.llm.models.dialects import endpoint_of

    password = "Sup3rSecretPassw0rd"
    with FakeOpenAIServer(handler=handler(themes=4)) as srv:
        with_password = srv.base_url.replace("http://", f"http://digest:{password}@", 1)
        config = write_config(tmp_path, srv, base_url=with_password, dialect="auto")
        result = daily(config, "--no-send")
        assert result.exit_code == 0, result.output
        plain = srv.base_url.rstrip("/")
    [state] = [f for f in (tmp_path / "home").rglob("*.sqlite3")]
    with sqlite3.connect(state) as db:
        endpoints = [row[0] for row in db.execute("SELECT endpoint FROM llm_dialects")]
    assert endpoints == [plain]  # remembered, without the secret parts
    assert password.encode() not in state.read_bytes()
    assert endpoint_of("https://u:p@host:8443/v1/?key=q#x") == "https://host:8443/v1"


# -- re-asks --------------------------------------------------------------------------------------


def _invalid_first_grouping(body: dict[str, Any]) -> Reply:
    """A grouping answer that leaves papers out unless the request is a re-ask."""
    schema, _ = request_schema(body)
    assert schema is not None
    answer = answer_from_schema(schema, themes=4, prompt=RecordedRequest.text_of(body))
    is_grouping = body["response_format"]["json_schema"]["name"] == "grouping"
    reask = any(m["role"] == "assistant" for m in body["messages"])
    if is_grouping and not reask:
        answer["themes"] = answer["themes"][:1]  # the other papers are missing
    return Reply(answer)


@pytest.mark.parametrize("reasks", ["direct", "batch"])
def test_a_reask_is_a_direct_call_or_a_follow_up_batch(tmp_path: Path, reasks: str) -> None:
    with FakeOpenAIServer(handler=_invalid_first_grouping) as srv:
        config = write_config(tmp_path, srv, batch=True, batch_reasks=reasks)
        result = daily(config, "--no-send")
        assert result.exit_code == 0, result.output
    data = digest_json(tmp_path)
    assert data["degraded"] == [] and blurb_engines(data) == {"llm"}
    if reasks == "direct":
        [reask] = srv.chat_requests
        assert [m["role"] for m in reask.body["messages"]][-2:] == ["assistant", "user"]
        assert len(srv.batches.creates) == 2
    else:
        assert srv.chat_requests == []
        assert [batch_lines(srv, b) for b in srv.batches.creates][:2] == [1, 1]
        assert len(srv.batches.creates) == 3


# -- a run killed while its batch was pending -------------------------------------------------------


def test_a_run_killed_while_its_batch_was_pending_is_collected_by_the_next(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("forever"))
    config = write_config(tmp_path, srv, batch=True, batch_deadline="30m")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [
        sys.executable,
        "-m",
        "agent",
        "daily",
        "--config",
        str(config),
        "--source",
        "sample",
        "--date",
        DATE,
        "--no-send",
    ]
    with subprocess.Popen(
        argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as first:
        try:
            deadline = time.monotonic() + 60
            while srv.batches.retrieves < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert srv.batches.retrieves >= 2, "the first run never polled its batch"
        finally:
            first.kill()  # killed while the batch is pending: no cancel, no clean-up
    [pending] = srv.batches.creates
    assert srv.batches.cancels == [] and srv.chat_requests == []
    assert not (kept(tmp_path) / "digest.json").exists()

    with Store.open(tmp_path / "home") as store:
        [recorded] = store.pending_batches(srv.base_url)
    assert recorded.batch_id == pending and len(recorded.ids) == 1
    srv.batches.rescript(pending, BatchScript("complete"))
    result = daily(config)
    assert result.exit_code == 0, result.output
    creates = srv.batches.creates
    assert creates[0] == pending and len(creates) == 2, "the grouping batch was not sent again"
    assert srv.chat_requests == []
    batch = digest_json(tmp_path)["model"]["batch"]
    assert batch["resumed"] == 1 and batch["batches"] == 1 and batch["direct"] == 0
    assert batch["requests"] == 1 + batch_lines(srv, creates[1])
    assert "+1 resumed from an earlier run" in text(result)
    footer = " ".join(email_text(tmp_path).split())
    assert "; 1 batch picked up from an interrupted run" in footer
    with Store.open(tmp_path / "home") as store:
        assert store.pending_batches(srv.base_url) == []


def test_a_stage_an_earlier_run_split_otherwise_still_collects_what_it_sent(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    assert daily(write_config(tmp_path / "probe", srv, batch=True), "--no-send").exit_code == 0
    blurbs_file = srv.batches.batch(srv.batches.creates[1])["input_file_id"]
    rows = [json.loads(line) for line in srv.batches.content(blurbs_file).splitlines()]
    # An earlier run of the same day sent half of the blurbs stage as one batch (its round
    # closed elsewhere) and was stopped: the provider has that batch, the state records it.
    half = rows[: len(rows) // 2]
    client = openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=5)
    data = b"".join(json.dumps(row).encode() + b"\n" for row in half)
    uploaded = client.files.create(file=("earlier.jsonl", data), purpose="batch")
    earlier = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    with Store.open(tmp_path / "run" / "home") as store:
        store.remember_batch(
            "an earlier split", srv.base_url, earlier.id, [r["custom_id"] for r in half]
        )
    before = len(srv.batches.creates)

    result = daily(write_config(tmp_path / "run", srv, batch=True), "--no-send")
    assert result.exit_code == 0, result.output
    grouping, rest = srv.batches.creates[before:]
    assert batch_lines(srv, grouping) == 1
    assert batch_lines(srv, rest) == len(rows) - len(half), "only the other half is sent"
    assert srv.chat_requests == []
    batch = digest_json(tmp_path / "run")["model"]["batch"]
    assert batch["resumed"] == 1 and batch["batches"] == 2 and batch["direct"] == 0
    assert batch["requests"] == 1 + len(rows)
    with Store.open(tmp_path / "run" / "home") as store:
        assert store.pending_batches(srv.base_url) == []


def batch_llm(srv: FakeOpenAIServer, **overrides: Any) -> LLMSettings:
    """Batch mode against the fake as a remote provider, polling fast."""
    return LLMSettings(
        model="gpt-4o-mini",
        base_url=srv.base_url,
        api_key=KEY,
        dialect="json_schema",
        local_defaults=False,
        batch=True,
        batch_poll_seconds=0.02,
        **overrides,
    )


def test_the_progress_line_says_which_batch_is_waited_for(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.batches.script(BatchScript("complete", polls=2))
    llm = batch_llm(srv, batch_deadline="20m")
    heard: list[str] = []
    with Store.open(tmp_path) as store:
        engine = LLMEngine(llm, store, progress=heard.append, batch=True)
        asyncio.run(engine.summarize(sample_papers(12)))
    first = srv.batches.creates[0]
    assert (
        f"waiting for batch {first} (validating; until 20 min after the start at the latest)"
        in heard
    )
    assert (
        f"waiting for batch {first} (in_progress; until 20 min after the start at the latest)"
        in heard
    )
    assert heard[-1].startswith("model calls:")


class _Word(pydantic.BaseModel):
    word: str


def test_identical_requests_of_a_round_share_one_line_and_one_charge(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.queue(Reply({"word": "same"}))
    llm = batch_llm(srv)
    meter = UsageMeter(llm.prices, None)
    request = ChatRequest(
        step="headline",
        messages=({"role": "user", "content": "one word"},),
        schema=_Word,
        schema_name="word",
        max_output_tokens=256,
        prompt_version="v",
    )

    async def twice() -> list[ChatAnswer]:
        shared = Shared(meter, batch=BatchStats(llm.batch_price_factor))
        [model] = build_chat_models(llm, None, shared, use_cache=False)
        try:
            return list(await asyncio.gather(model.complete(request), model.complete(request)))
        finally:
            await model.aclose()

    first, second = asyncio.run(twice())
    assert first.text == second.text == '{"word": "same"}'
    [batch] = srv.batches.creates
    assert batch_lines(srv, batch) == 1 and srv.batches.lines_run == 1
    assert meter.total().calls == 1 and srv.chat_requests == []


# -- small parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normal"),
    [("06:30", "06:30"), ("6:30", "06:30"), (45, "2700s"), ("45m", "2700s"), ("90s", "90s")],
)
def test_deadline_settings(given: object, normal: str) -> None:
    assert batch_deadline(given) == normal
    assert LLMSettings(batch_deadline=given).batch_deadline == normal


@pytest.mark.parametrize("bad", ["25:00", "0m", "soon", True, 99_999])
def test_bad_deadlines_are_config_errors(bad: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="deadline"):
        batch_deadline(bad)
    config = tmp_path / "digest.toml"
    config.write_text(f"[llm]\nbatch_deadline = {json.dumps(bad)}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["daily", "--config", str(config), "--source", "sample"])
    assert result.exit_code == 2 and "llm.batch_deadline" in result.output
    assert "Traceback" not in result.output


def test_a_clock_deadline_is_today_and_may_have_passed() -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
    assert deadline_at("06:30", now) == now.replace(hour=6, minute=30)
    assert deadline_at("90s", now) == now + dt.timedelta(seconds=90)


def test_result_lines_are_read_per_request_and_others_ignored() -> None:
    good = {"custom_id": "r-1", "response": {"status_code": 200, "body": {"id": "x"}}}
    bad = {
        "custom_id": "r-2",
        "response": {
            "status_code": 429,
            "body": {"error": {"message": "slow down sk-abcdefgh12345"}},
        },
    }
    data = (
        b"\n".join(json.dumps(row).encode() for row in (good, bad, {"custom_id": "r-3"}))
        + b"\nnot json\n"
    )
    found = parse_results(data, ["r-1", "r-2"])
    assert found["r-1"].completion == {"id": "x"} and found["r-1"].error is None
    assert found["r-2"].completion is None and found["r-2"].error == "HTTP 429: slow down sk-***"
    assert set(found) == {"r-1", "r-2"}


def test_a_clock_deadline_already_passed_means_no_batch_at_all(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, srv, batch=True, batch_deadline="00:00")  # always past
    result = daily(config, "--no-send")
    assert result.exit_code == 0, result.output
    assert srv.batches.uploads == [] and srv.batches.creates == []
    batch = digest_json(tmp_path)["model"]["batch"]
    assert batch["direct"] == len(srv.chat_requests) > 1
    assert batch["notes"] == [
        "the batch deadline 00:00 had passed at the start; direct calls from then on"
    ]


def test_the_fallback_model_keeps_the_configured_concurrency_in_batch_mode(
    tmp_path: Path,
) -> None:
    def answer(body: dict[str, Any]) -> Any:
        if body["model"] == "gpt-4o-mini":
            return Fault.http(400)  # the primary cannot answer: every step falls back
        return handler(themes=8)(body)

    with FakeOpenAIServer(handler=answer, latency_per_call=0.05) as srv:
        config = write_config(
            tmp_path,
            srv,
            batch=True,
            fallback_model="gpt-4.1-nano",
            concurrency=2,
            circuit_breaker_failures=100,
        )
        result = daily(config, "--no-send", "--max-papers", "60")
        assert result.exit_code == 0, result.output
        fallback = [r for r in srv.chat_requests if r.body["model"] == "gpt-4.1-nano"]
        assert len(fallback) > 4
        assert srv.max_in_flight <= 2
    assert blurb_engines(digest_json(tmp_path)) == {"llm"}


def test_a_batch_over_the_cost_cap_is_not_submitted(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, srv, batch=True, max_cost_usd=0.000001)
    result = daily(config, "--no-send")
    assert result.exit_code == 0, result.output
    assert srv.batches.uploads == [] and srv.chat_requests == []
    data = digest_json(tmp_path)
    assert blurb_engines(data) == {"offline"}
    assert any("would pass the cost cap" in n for n in data["model"]["batch"]["notes"])
    assert any("cost cap reached" in d["reason"] for d in data["degraded"])


def test_a_rerun_of_a_batch_day_is_answered_from_the_cache(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, srv, batch=True)
    assert daily(config, "--no-send").exit_code == 0
    creates = list(srv.batches.creates)
    again = daily(config, "--no-send")
    assert again.exit_code == 0, again.output
    assert srv.batches.creates == creates and srv.chat_requests == []
    data = digest_json(tmp_path)
    assert data["usage"]["calls"] == 0 and data["usage"]["cache_hits"] > 0
    assert data["model"]["batch"]["batches"] == 0
    assert "Batch engine" not in text(again)
