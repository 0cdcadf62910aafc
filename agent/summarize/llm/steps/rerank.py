"""The optional relevance pass (`[llm] rerank = true`): the model scores the top candidates of
the offline ranking against the reader's interests and `not_interested`, many papers per call.
Each call is one link of a fallback chain (primary, fallback model, then no score), so a failure
only leaves those papers in their offline order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agent.core.tasks import gather_or_cancel
from agent.models import Paper
from agent.summarize.llm.asking.ask import Asker, Question
from agent.summarize.llm.asking.prompts import untrusted
from agent.summarize.llm.asking.schemas import rerank_schema, short_ids
from agent.summarize.llm.asking.sizing import even_parts
from agent.summarize.llm.chat import ChatModel

PER_CALL = 20  # papers scored in one call
ABSTRACT_TOKENS = 160  # each abstract is trimmed to this many tokens
LIBRARY_TITLES = 12  # titles of the reader's papers shown to the model
SCORE_OUTPUT_TOKENS = 14  # per paper: {"id": "P12", "score": 7},


@dataclass(frozen=True)
class RerankInput:
    """What the reader wants, and one batch of candidates."""

    interests: str
    not_interested: str
    library: tuple[str, ...]
    papers: tuple[Paper, ...]


def rerank_batches(data: RerankInput) -> list[RerankInput]:
    """The candidates cut into calls of at most PER_CALL papers."""
    count = len(data.papers)
    parts = even_parts(count, -(-count // PER_CALL)) if count else []
    return [
        RerankInput(
            data.interests, data.not_interested, data.library, tuple(data.papers[i] for i in r)
        )
        for r in parts
    ]


class Reranker:
    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    async def score(self, model: ChatModel, data: RerankInput) -> dict[str, int]:
        """Paper id -> 0..10 for one batch, in halves when it does not fit the context window
        (one a server showed smaller than configured). Raises ModelError (the chain falls
        back)."""
        question = self._question(data)
        shrunk = self.asker.window.smaller and len(data.papers) > 1
        if shrunk and not self.asker.fits(question.user, question.max_output_tokens):
            half = len(data.papers) // 2
            parts = (data.papers[:half], data.papers[half:])
            halves = await gather_or_cancel(
                self.score(model, dataclasses.replace(data, papers=part)) for part in parts
            )
            return {pid: score for scores in halves for pid, score in scores.items()}
        reply = await self.asker.ask(model, question)
        ids = short_ids("P", len(data.papers))
        by_sid = {sid: paper.id for sid, paper in zip(ids, data.papers, strict=True)}
        return {by_sid[item.id]: int(item.score) for item in reply.value.scores}

    def _question(self, data: RerankInput) -> Question:
        ids = short_ids("P", len(data.papers))
        papers = [
            {
                "sid": sid,
                "title": untrusted(p.title),
                "text": untrusted(self.asker.trim(p.abstract, ABSTRACT_TOKENS)),
            }
            for sid, p in zip(ids, data.papers, strict=True)
        ]
        user = self.asker.prompts.render(
            "rerank",
            interests=untrusted(data.interests)
            or "(not said; judge by the papers the reader keeps)",
            not_interested=untrusted(data.not_interested),
            library=[untrusted(t) for t in data.library[:LIBRARY_TITLES]],
            papers=papers,
            first_id=ids[0],
            last_id=ids[-1],
        )
        return Question(
            step="rerank",
            prompt="rerank",
            user=user,
            schema=rerank_schema(ids),
            lenient=None,
            max_output_tokens=self.asker.output_tokens(SCORE_OUTPUT_TOKENS * len(ids) + 40),
        )

    @staticmethod
    def offline(data: RerankInput) -> dict[str, int]:
        """No model answered: no scores, the offline order stands."""
        return {}


__all__ = ["RerankInput", "Reranker", "rerank_batches"]
