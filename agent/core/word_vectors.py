"""Static word-sense vectors: WordLlama's 256-dimension token embeddings, read from the files its
wheel ships (never downloaded), averaged over a text's tokens and L2-normalised.

They place papers that say one thing in different words near each other ("length
extrapolation", "long context"), which TF-IDF over a day's 30 abstracts cannot; they are weak on
names ("Greek" and "Polish" are not close). One 16 MB matrix, loaded once per process on first
use (about 0.1 s CPU, most of it the tokenizer). The pooling is WordLlamaInference's (no special
tokens, no truncation, the mean of the token rows), written out here because importing the
wordllama package costs three times the load (requests, its config loaders) and sets the root
logger's level. `available()` says whether they can be used;
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
    tokenizer, matrix = _model()
    vectors = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
    texts = [text[:MAX_TEXT_CHARS] for text in texts]
    encoded = tokenizer.encode_batch(texts, add_special_tokens=False)
    for i, tokens in enumerate(encoded):
        if tokens.ids:
            ids = np.clip(np.asarray(tokens.ids, dtype=np.int64), 0, len(matrix) - 1)
            rows = matrix[ids].astype(np.float32)  # float16 on disk: widening is exact
            vectors[i] = rows.sum(axis=0, dtype=np.float32) / np.float32(len(ids))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def dimensions() -> int:
    return int(_model()[1].shape[1])


def _package_root() -> Path | None:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


@functools.cache
def _model() -> tuple[Any, np.ndarray]:
    """The tokenizer (no padding or truncation) and the token matrix (as stored: float16) of
    the bundled files; RuntimeError with a one-line reason when they are missing (callers
    check `available()` first)."""
    root = _package_root()
    if root is None or not available():
        raise RuntimeError(
            "word vectors unavailable: the wordllama package or its files are missing"
        )
    from safetensors import safe_open
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
        matrix = weights.get_tensor("embedding.weight")
    return tokenizer, matrix


__all__ = ["MAX_TEXT_CHARS", "available", "dimensions", "embed"]
