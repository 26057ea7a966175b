"""Byte-level BPE: trained on the text, deterministic, round-trips any text, saved and validated as JSON."""
from __future__ import annotations

import math

import pytest

from neuralab.data.tokenization import BytePairTokenizer, bits_per_character, perplexity
from neuralab.errors import DataError, RunError

TEXT = ("First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. "
        "First Citizen: You are all resolved rather to die than to famish? ") * 30


def test_training_is_deterministic_and_round_trips_unseen_text():
    first = BytePairTokenizer.train(TEXT, vocab_size=300)
    assert first == BytePairTokenizer.train(TEXT, vocab_size=300) and first.size == 300
    for text in ("speak, citizen", "naïve — ünïcödé ✓ 漢字", ""):
        assert first.decode(first.encode(text)) == text
    assert first.unknown("漢字") == []
    assert len(first.encode("First Citizen")) < len("First Citizen") / 2  # merges learned whole words
    assert first.characters_per_token(TEXT) > 2


def test_saved_as_json_and_read_back_validated():
    tokenizer = BytePairTokenizer.train(TEXT, vocab_size=280)
    again = BytePairTokenizer.from_dict(tokenizer.to_dict())
    assert again == tokenizer and again.encode("speak").tolist() == tokenizer.encode("speak").tolist()
    for bad in ({"format": "neuralab.bpe/1"}, {"format": "neuralab.bpe/1", "tokenizer": {"model": {"type": "WordPiece"}}},
                {"format": "neuralab.bpe/1", "tokenizer": {"model": {"type": "BPE", "vocab": 3}}}, []):
        with pytest.raises(RunError, match="tokenizer"):
            BytePairTokenizer.from_dict(bad)


def test_a_vocabulary_larger_than_the_text_allows_is_refused_with_the_limit():
    with pytest.raises(DataError) as error:
        BytePairTokenizer.train("to be or not to be", vocab_size=1000)
    (line,) = error.value.problems
    assert line.startswith("data.vocab_size: 1,000 is more than this text allows: byte-pair merging stops at")
    limit = int(line.rsplit("data.vocab_size ≤ ", 1)[1].split()[0].replace(",", ""))
    assert BytePairTokenizer.train("to be or not to be", vocab_size=limit).size == limit


def test_bits_per_character_and_perplexity():
    assert bits_per_character(math.log(2) * 3, characters_per_token=3) == pytest.approx(1.0)
    assert perplexity(math.log(65)) == pytest.approx(65.0)
