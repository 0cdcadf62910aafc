"""What the selection knows about one reader: library entries, ratings, follows, dislikes."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator

from agent.core.safe_text import strip_hidden, visible_names


class LibraryEntry(BaseModel):
    """One paper the reader keeps or rated: enough text to learn from (the title at least)."""

    model_config = ConfigDict(frozen=True)

    key: str  # citation key, arXiv id, DOI or row number: what an error message names
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @field_validator("key", "title", "abstract", mode="before")
    @classmethod
    def _visible_text(cls, value: object) -> object:
        """Without hidden characters: a library (a Zotero group anyone in it edits, a file from
        elsewhere) is outside text, and its titles reach the terminal, the email and the feed
        in a paper's "why"."""
        return strip_hidden(value) if isinstance(value, str) else value

    @field_validator("authors", mode="before")
    @classmethod
    def _visible_authors(cls, value: object) -> object:
        return visible_names(value)

    @property
    def text(self) -> str:
        return f"{self.title}. {self.title}. {self.abstract}"


@dataclass(frozen=True)
class ReaderProfile:
    """Positives (library, up-ratings) and negatives (down-ratings), followed authors, and the
    free text of what the reader does not want."""

    library: tuple[LibraryEntry, ...] = ()
    liked: tuple[LibraryEntry, ...] = ()
    disliked: tuple[LibraryEntry, ...] = ()
    authors: tuple[str, ...] = ()
    not_interested: str = ""

    @property
    def positives(self) -> tuple[LibraryEntry, ...]:
        return self.library + self.liked

    @property
    def empty(self) -> bool:
        return not (self.positives or self.disliked or self.authors or self.not_interested.strip())
