"""The provider's Batch API as a chat model: `[llm] batch = true` or `digest daily --batch`."""

from agent.summarize.llm.models.batch.model import BatchChatModel, BatchStats

__all__ = ["BatchChatModel", "BatchStats"]
