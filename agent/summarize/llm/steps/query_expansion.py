"""Query expansion: the search queries a topic expands to (`digest topic`), in one model call."""

from __future__ import annotations

from agent.summarize.llm.asking.ask import Asker, Question
from agent.summarize.llm.asking.prompts import untrusted
from agent.summarize.llm.asking.repair import clip
from agent.summarize.llm.asking.schemas import (
    MAX_QUERIES,
    MIN_QUERIES,
    QUERY_CHARS,
    LenientQueries,
    Queries,
)
from agent.summarize.llm.chat import ChatModel

QUERIES_OUTPUT_TOKENS = MAX_QUERIES * QUERY_CHARS // 3 + 40


class QueryExpander:
    """A topic's search queries with a model (the offline fallback is the topic alone)."""

    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    async def expand(self, model: ChatModel, topic: str) -> list[str]:
        """2-4 distinct search queries for `topic` (clipped); InvalidAnswer when none is usable."""
        user = self.asker.prompts.render(
            "expand_query",
            topic=untrusted(topic),
            min_queries=MIN_QUERIES,
            max_queries=MAX_QUERIES,
        )
        question = Question(
            step="expand_query",
            prompt="expand_query",
            user=user,
            schema=Queries,
            lenient=LenientQueries,
            max_output_tokens=self.asker.output_tokens(QUERIES_OUTPUT_TOKENS),
            topic=topic,
        )
        reply = await self.asker.ask(model, question)
        found: list[str] = []
        for query in reply.value.queries:
            query = clip(query, QUERY_CHARS)
            if query and query.lower() not in {q.lower() for q in found}:
                found.append(query)
        if not found:
            raise reply.unusable("expand_query: no usable query")
        return found[:MAX_QUERIES]


__all__ = ["QueryExpander"]
