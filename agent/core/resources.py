"""Where the bundled files are, in a checkout and in an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # agent/


def prompts_dir() -> Path:
    """The bundled prompts: `agent/prompts` in an installed wheel, `prompts/` in a checkout."""
    installed = _PACKAGE_DIR / "prompts"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / "prompts"


def sample_corpus_path() -> Path:
    """The bundled sample day of papers (ids dp-001 ...)."""
    return _PACKAGE_DIR / "data" / "sample-daily-papers.jsonl"


def demo_day_path() -> Path:
    """A recorded real day of Hugging Face daily papers, with links and upvotes (`make demo`)."""
    return _PACKAGE_DIR / "data" / "demo-hf-day.jsonl"


def background_vocabulary_path() -> Path:
    """Term document frequencies of the sample day, precomputed (agent.summarize.offline.background)."""
    return _PACKAGE_DIR / "data" / "background-df.json.gz"


def token_frequencies_path() -> Path:
    """Word-vector token counts of the sample and demo days, precomputed (agent.core.word_vectors)."""
    return _PACKAGE_DIR / "data" / "token-counts.json.gz"


def language_names_path() -> Path:
    """English names of the ISO 639-1 languages (generated: tools/language_names.py)."""
    return _PACKAGE_DIR / "data" / "language-names.txt"


def bundled_eval_cases_dir() -> Path:
    """The eval cases shipped with the package: `agent/evalcases` in an installed wheel,
    `evals/cases` in a checkout."""
    installed = _PACKAGE_DIR / "evalcases"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / "evals" / "cases"
