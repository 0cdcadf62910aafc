"""The bundled word vectors load from the wheel's own files (the socket guard refuses any
download) and give unit rows that place related texts closer than unrelated ones."""

from __future__ import annotations

import numpy as np

from agent.core import word_vectors


def test_vectors_come_from_the_installed_files_without_a_download() -> None:
    assert word_vectors.available()
    rows = word_vectors.embed(["Greek BERT for text classification", "GPU kernel scheduling"])
    assert rows.shape == (2, word_vectors.dimensions())
    assert rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_related_texts_are_closer_than_unrelated_ones() -> None:
    anchor, related, unrelated = word_vectors.embed(
        [
            "post-training quantization of language model weights to 4 bits",
            "8-bit quantization of transformer weights and activations",
            "a benchmark of reading comprehension questions about Wikipedia",
        ]
    )
    assert float(anchor @ related) > float(anchor @ unrelated)


def test_a_text_without_tokens_is_a_zero_row_and_long_text_is_cut() -> None:
    empty, long = word_vectors.embed(["", "attention " * 5_000])
    assert not empty.any()
    assert np.isclose(np.linalg.norm(long), 1.0, atol=1e-5)
    assert word_vectors.embed([]).shape == (0, word_vectors.dimensions())


def test_the_pooling_is_wordllamas_own() -> None:
    """The module pools token rows itself (importing wordllama costs three times the load);
    the rows equal what WordLlamaInference gives for the same files."""
    from wordllama.inference import WordLlamaInference

    from agent.core.word_vectors import _model

    tokenizer, matrix = _model()
    texts = ["Greek BERT", "", "KV cache eviction for long-context LLM inference " * 40, "é ü"]
    reference = WordLlamaInference(matrix, tokenizer.__class__.from_str(tokenizer.to_str()))
    want = np.asarray(reference.embed(texts, norm=False), dtype=np.float32)
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    want = np.divide(want, norms, out=np.zeros_like(want), where=norms > 0)
    assert np.allclose(word_vectors.embed(texts), want, atol=1e-6)
