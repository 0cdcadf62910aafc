"""Static word-sense vectors: WordLlama's 256-dimension token embeddings, read from the files its
wheel ships (never downloaded), averaged over a text's tokens and L2-normalised.

They carry what word overlap cannot ("Greek" and "Polish" are both languages) at the cost of one
16 MB matrix, loaded once per process on first use. `available()` says whether they can be used;
callers keep a TF-IDF-only path for when they cannot.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

MAX_TEXT_CHARS = 4_000  # a title and the head of an abstract: the cost stays linear and small
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


def available() -> bool:
    """True when the package and both of its bundled files are installed."""
    root = _package_root()
    return root is not None and (root / _WEIGHTS).is_file() and (root / _TOKENIZER).is_file()


def embed(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text (a zero row for a text with no known token)."""
    if not texts:
        return np.zeros((0, dimensions()), dtype=np.float32)
    model = _model()
    rows = model.embed([text[:MAX_TEXT_CHARS] for text in texts], norm=False)
    vectors = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def dimensions() -> int:
    return int(_model().embedding.shape[1])


def _package_root() -> Path | None:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


@functools.cache
def _model() -> Any:
    """The inference object over the bundled files; RuntimeError with a one-line reason when
    they are missing (callers check `available()` first)."""
    root = _package_root()
    if root is None or not available():
        raise RuntimeError(
            "word vectors unavailable: the wordllama package or its files are missing"
        )
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
    with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
        matrix = weights.get_tensor("embedding.weight")
    return WordLlamaInference(matrix, tokenizer)


__all__ = ["MAX_TEXT_CHARS", "available", "dimensions", "embed"]
