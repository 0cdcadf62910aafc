"""`digest daily` and `digest topic` run as the command runs them (`agent.cli`: planned, then
in one event loop), for tests that look at the outcome rather than the printed lines."""

from __future__ import annotations

from agent.cli import daily_run, topic_run
from agent.config import Settings
from agent.pipeline import DailyOptions, RunOutcome
from agent.topic import TopicOptions, TopicOutcome


def run_daily(settings: Settings, options: DailyOptions) -> RunOutcome:
    """The single reader's outcome (its DeliveryError raised when the digest is spooled)."""
    return daily_run(settings, options).single()


def run_topic(settings: Settings, options: TopicOptions) -> TopicOutcome:
    return topic_run(settings, options)
