"""The bundled word vectors load from the wheel's own files (the socket guard refuses any
download) and give unit rows that place related texts closer than unrelated ones; their SIF
weights come from the shipped token counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.core import word_vectors
from agent.core.resources import token_frequencies_path


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
    assert np.allclose(word_vectors.embed(texts, weighted=False), want, atol=1e-6)


def _tokens(text: str) -> list[int]:
    tokenizer, _ = word_vectors._model()
    return [int(t) for t in tokenizer.encode(text, add_special_tokens=False).ids]


def test_common_tokens_weigh_less_than_rare_content_tokens() -> None:
    weights = word_vectors.token_weights()
    counts = word_vectors.read_counts(token_frequencies_path())
    the, quant, comma = _tokens("the quant,")
    assert counts[the] > 10 * counts[quant]  # the reference really is what the weights say
    assert weights[the] < 0.3 * weights[quant] and weights[comma] < 0.3 * weights[quant]
    unseen = next(t for t in range(len(weights)) if t not in counts)
    assert weights[unseen] == 1.0
    assert np.all((weights > 0) & (weights <= 1.0))


def test_the_weights_pull_a_wordy_text_towards_its_content_words() -> None:
    """Padding a phrase with stop words and punctuation moves the weighted row less than the
    plain mean (which every "the" and "," pulls towards the same place)."""
    content = "quantization transformer weights"
    wordy = "the quantization, of the transformer, and of the weights, in the, of the"
    sif = word_vectors.embed([content, wordy])
    plain = word_vectors.embed([content, wordy], weighted=False)
    assert float(sif[0] @ sif[1]) > float(plain[0] @ plain[1]) + 0.05


def test_the_shipped_token_counts_are_what_the_script_computes() -> None:
    shipped = word_vectors.read_counts(token_frequencies_path())
    assert shipped == word_vectors.count_tokens()
    assert sum(shipped.values()) > 50_000  # the 237 titles and abstracts, not an empty file


def _weights_file() -> Path:
    root = word_vectors._package_root()
    assert root is not None
    return root / word_vectors._WEIGHTS


def test_the_mapped_matrix_is_the_file_s_tensor_as_safetensors_reads_it() -> None:
    from safetensors import safe_open

    with safe_open(str(_weights_file()), framework="np", device="cpu") as weights:
        want = weights.get_tensor("embedding.weight")
    got = word_vectors.mapped_tensor(_weights_file(), "embedding.weight")
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(np.asarray(got), want)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda whole: whole[:4], id="cut inside the header size"),
        pytest.param(lambda whole: (10**9).to_bytes(8, "little") + whole[8:], id="header too big"),
        pytest.param(lambda whole: whole[:8] + b"{not json" + whole[17:], id="header not JSON"),
        pytest.param(lambda whole: whole[: len(whole) // 2], id="data cut short"),
        pytest.param(lambda whole: whole.replace(b'"F16"', b'"F32"', 1), id="another dtype"),
    ],
)
def test_a_damaged_weights_file_is_one_clear_error(tmp_path: Path, damage) -> None:
    path = tmp_path / "weights.safetensors"
    path.write_bytes(damage(_weights_file().read_bytes()))
    with pytest.raises(RuntimeError, match=r"^word vectors unusable: weights\.safetensors"):
        word_vectors.mapped_tensor(path, "embedding.weight")
