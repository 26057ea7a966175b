"""Text data: the bundled corpus, any UTF-8 file, the vocabulary's round trip and bad files refused clearly."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuralab.data import Vocabulary, load_data, preprocessor_from_dict
from neuralab.data.text import load_text, read_corpus
from neuralab.errors import DataError, RunError
from neuralab.spec import DataSpec


def test_the_bundled_shakespeare_is_the_shared_corpus():
    text = read_corpus(DataSpec(dataset="shakespeare"))
    assert len(text) == 1_115_394 and len(set(text)) == 65 and text.startswith("First Citizen:")


def test_text_is_cut_into_contiguous_blocks_and_shifted_windows(tmp_path):
    path = tmp_path / "abc.txt"
    text = "".join(chr(97 + (i * 7) % 26) for i in range(1000))
    path.write_text(text, encoding="utf-8")
    bundle = load_data(DataSpec(dataset="text", path=str(path), sequence_length=10), seed=0)
    vocabulary = bundle.preprocessor
    assert bundle.kind == "text" and bundle.vocab_size == 26 and bundle.output_steps == "every"
    assert vocabulary.decode(bundle.x_train[0]) == text[:10] and vocabulary.decode(bundle.y_train[0]) == text[1:11]
    assert vocabulary.decode(bundle.x_dev[0]) == text[900:910]  # 90/5/5: dev starts where train ends
    assert vocabulary.decode(bundle.x_test[0]) == text[950:960]
    assert len(bundle.x_train) == 899 // 10 and len(bundle.x_dev) == 49 // 10


def test_the_baseline_is_the_unigram_cross_entropy_on_dev():
    bundle = load_data(DataSpec(dataset="shakespeare", max_characters=50_000, sequence_length=50), seed=0)
    train = np.concatenate([bundle.x_train.ravel(), bundle.y_train[:, -1]])
    counts = np.bincount(train, minlength=bundle.vocab_size) + 1.0
    dev = bundle.y_dev.ravel()
    expected = -np.mean(np.log(counts[dev] / counts.sum()))
    assert bundle.baseline_loss == pytest.approx(expected, rel=0.02) and bundle.baseline_loss < math.log(bundle.vocab_size)


def test_the_vocabulary_round_trips_through_json_and_names_unknown_characters():
    vocabulary = load_data(DataSpec(dataset="shakespeare", max_characters=5000, sequence_length=20)).preprocessor
    again = preprocessor_from_dict(json.loads(json.dumps(vocabulary.to_dict())))
    assert again == vocabulary and again.decode(again.encode("First")) == "First"
    with pytest.raises(DataError, match="prompt: '€', 'ß' are not in the vocabulary"):
        vocabulary.encode("F€ß€")
    for bad in ({"format": "neuralab.vocabulary/1", "characters": ["a", "a"]},
                {"format": "neuralab.vocabulary/1", "characters": ["ab", "c"]}, {"format": "pickle"}):
        with pytest.raises(RunError):
            preprocessor_from_dict(bad)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"caf\xe9 au lait", "is not UTF-8 text \\(byte 0xe9 at offset 3\\)"),
    (b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "only 1 distinct"),
    (b"abcdefghij" * 3, "leaves no window in the dev block"),
])
def test_bad_text_files_are_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_data(DataSpec(dataset="text", path=str(path), sequence_length=5), seed=0)


def test_a_missing_file_is_named():
    with pytest.raises(DataError, match="does not exist"):
        load_data(DataSpec(dataset="text", path="/no/such/file.txt"), seed=0)


def test_vocabulary_encodes_like_a_lookup():
    vocabulary = Vocabulary(sorted(set("hello world")))
    lookup = {ch: i for i, ch in enumerate(vocabulary.characters)}
    assert vocabulary.encode("hello world").tolist() == [lookup[ch] for ch in "hello world"]


def test_bpe_text_is_cut_into_windows_of_tokens_and_refuses_a_vocabulary_too_large():
    from neuralab.data.tokenization import BytePairTokenizer

    bundle = load_text(DataSpec(dataset="shakespeare", max_characters=20_000, sequence_length=16, tokenizer="bpe",
                                vocab_size=300))
    assert isinstance(bundle.preprocessor, BytePairTokenizer) and bundle.vocab_size == 300
    assert bundle.x_train.max() < 300 and bundle.preprocessor.decode(bundle.x_train[0]).startswith("First Citizen")
    assert "token frequencies" in bundle.baseline_rule
    with pytest.raises(DataError, match=r"^data.vocab_size: 60,000 is more than this text allows"):
        load_text(DataSpec(dataset="shakespeare", max_characters=2_000, sequence_length=16, tokenizer="bpe",
                           vocab_size=60_000))
