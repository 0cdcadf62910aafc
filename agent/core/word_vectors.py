"""Static word-sense vectors: WordLlama's 256-dimension token embeddings, read from the files its
wheel ships (never downloaded), pooled over a text's tokens with SIF weights and L2-normalised.

They place papers that say one thing in different words near each other ("length
extrapolation", "long context"), which TF-IDF over a day's 30 abstracts cannot; they are weak on
names ("Greek" and "Polish" are not close). One 16 MB matrix, memory-mapped once per process
on first use (the load is about 0.1 s CPU, nearly all of it the tokenizer). The plain pooling
(`weighted=False`) is WordLlamaInference's (no special tokens, no truncation, the mean of the
token rows), written out here because importing the wordllama package costs three times the
load (requests, its config loaders) and sets the root logger's level. `available()` says
whether they can be used; callers keep a TF-IDF-only path for when they cannot.

Each token row is weighted by a / (a + p(token)) (SIF, Arora, Liang and Ma 2017, "A simple but
tough-to-beat baseline for sentence embeddings"), p the token's share of a reference corpus (the
titles and abstracts of the bundled sample and demo days), a = `SIF_A`: "the", "of" and ","
weigh about a tenth of a rare content token, where the plain mean is dominated by them.
Measured with `bench/offline_quality.py` (grouping ARI, before -> after): 0.485 -> 0.493 on the
20 tuning days, 0.465 -> 0.494 on the 40 held-out days, 0.617 -> 0.620 on the day cases; with
counts from the sample's unlabelled papers alone (no scored paper in the reference) 0.492 /
0.491 / 0.620. Tried and not kept: SIF's second step, removing the first principal component
(of the day's rows or of the reference's; a = 1e-3: tuning 0.480 / 0.484 against 0.489
without), and pooling only the tokens of content words (`text.analyze`'s; tuning 0.476 with
SIF weights, 0.473 without).
The counts are package data (`agent/data/token-counts.json.gz`): tokenising the reference at
run time costs 0.1 s CPU. Regenerate them after changing either day or the tokenizer:

    .venv/bin/python -m agent.core.word_vectors

A test checks that the shipped file equals what this module computes.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.resources import demo_day_path, sample_corpus_path, token_frequencies_path

MAX_TEXT_CHARS = 4_000  # a title and the head of an abstract: the cost stays linear and small
SIF_A = 3e-3  # chosen on the tuning days among 1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3 and 5e-3
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
_MAX_HEADER = 1 << 20  # bytes: the real header is under 200


def available() -> bool:
    """True when the package and both of its bundled files are installed."""
    root = _package_root()
    return root is not None and (root / _WEIGHTS).is_file() and (root / _TOKENIZER).is_file()


def embed(texts: list[str], *, weighted: bool = True) -> np.ndarray:
    """One unit-length float32 row per text (a zero row for a text with no known token): the
    SIF-weighted mean of its token rows, or with `weighted=False` WordLlama's plain mean."""
    if not texts:
        return np.zeros((0, dimensions()), dtype=np.float32)
    tokenizer, matrix = _model()
    weights = token_weights() if weighted else None
    vectors = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
    for i, ids in enumerate(_token_ids(tokenizer, texts, len(matrix))):
        if len(ids):
            rows = matrix[ids].astype(np.float32)  # float16 on disk: widening is exact
            if weights is not None:
                rows *= weights[ids, None]
            vectors[i] = rows.sum(axis=0, dtype=np.float32) / np.float32(len(ids))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def dimensions() -> int:
    return int(_model()[1].shape[1])


@functools.cache
def token_weights() -> np.ndarray:
    """a / (a + p) per token id (float32); 1 for a token the reference never uses."""
    counts = read_counts(token_frequencies_path())  # package data: always shipped
    vocabulary = len(_model()[1])
    frequency = np.zeros(vocabulary, dtype=np.float64)
    for token, count in counts.items():
        if 0 <= token < vocabulary:
            frequency[token] = count
    total = frequency.sum()
    p = frequency / total if total else frequency
    return (SIF_A / (SIF_A + p)).astype(np.float32)


def count_tokens() -> dict[int, int]:
    """How often each token id occurs in the reference corpus's titles and abstracts, cut and
    tokenised as `embed` does."""
    texts: list[str] = []
    for path in (sample_corpus_path(), demo_day_path()):
        with path.open(encoding="utf-8") as fh:
            records = [json.loads(line) for line in fh if line.strip()]
        texts += [str(r.get("title") or "") for r in records]
        texts += [str(r.get("abstract") or "") for r in records]
    tokenizer, matrix = _model()
    ids = [row for row in _token_ids(tokenizer, texts, len(matrix)) if len(row)]
    counts = np.bincount(np.concatenate(ids)) if ids else np.zeros(0, dtype=np.int64)
    return {int(t): int(c) for t, c in enumerate(counts) if c}


def encode_counts(counts: dict[int, int]) -> bytes:
    """Deterministic bytes for the package data file (sorted, compact, gzip without a time)."""
    data = {"tokenizer": _TOKENIZER, "counts": {str(t): c for t, c in sorted(counts.items())}}
    text = json.dumps(data, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def read_counts(path: Path) -> dict[int, int]:
    data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    return {int(t): int(c) for t, c in data["counts"].items()}


def _token_ids(tokenizer: Any, texts: list[str], vocabulary: int) -> list[np.ndarray]:
    encoded = tokenizer.encode_batch(
        [text[:MAX_TEXT_CHARS] for text in texts], add_special_tokens=False
    )
    return [np.clip(np.asarray(e.ids, dtype=np.int64), 0, vocabulary - 1) for e in encoded]


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
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, mapped_tensor(root / _WEIGHTS, _TENSOR)


def mapped_tensor(path: Path, name: str) -> np.ndarray:
    """One float16 matrix of a safetensors file, memory-mapped: a day reads only the rows of
    the tokens it uses (a few thousand of 32,000), where safetensors' `get_tensor` reads and
    copies all 16 MB (0.04-0.1 s CPU in a fresh process, against about 1 ms). The layout is
    the format's (an 8-byte little-endian header size, a JSON header, then the data); every
    field is checked against the file's size, and a file that does not match is a RuntimeError
    with one line."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        header_size = int.from_bytes(fh.read(8), "little")
        if not 2 <= header_size <= min(_MAX_HEADER, size - 8):
            raise RuntimeError(f"word vectors unusable: {path.name} has no safetensors header")
        try:
            entry = json.loads(fh.read(header_size))[name]
            start, end = (int(x) for x in entry["data_offsets"])
            rows, columns = (int(x) for x in entry["shape"])
            dtype = entry["dtype"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"word vectors unusable: {path.name}: {exc!r}") from None
    data = 8 + header_size
    if dtype != "F16" or rows * columns * 2 != end - start or not 0 <= start < end <= size - data:
        raise RuntimeError(f"word vectors unusable: {path.name}: {name} is not as expected")
    return np.memmap(path, dtype="<f2", mode="r", offset=data + start, shape=(rows, columns))


def main() -> None:
    path = token_frequencies_path()
    counts = count_tokens()
    path.write_bytes(encode_counts(counts))
    print(f"wrote {path}: {len(counts):,} tokens, {sum(counts.values()):,} in all")


if __name__ == "__main__":
    main()


__all__ = ["MAX_TEXT_CHARS", "SIF_A", "available", "dimensions", "embed", "token_weights"]
