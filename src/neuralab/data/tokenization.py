"""Byte-level BPE for language models, trained on the corpus with Hugging Face's ``tokenizers`` library.

``data.tokenizer: bpe`` makes a :class:`BytePairTokenizer` of ``data.vocab_size`` tokens:
the 256 byte values (so any text can be encoded, nothing is ever unknown) plus the most
frequent adjacent pairs merged into new tokens (GPT-2's scheme: text is first split into
words and runs of spaces and punctuation, and merges never cross those). It has the same
interface as the character vocabulary (``encode``, ``decode``, ``size``, ``to_dict``…), is
saved with the run in ``model.json`` (the library's own JSON inside neuralab's) and read
back by :meth:`BytePairTokenizer.from_dict`, which validates it.

A text too short or too repetitive has fewer pairs to merge than ``vocab_size`` asks for:
training stops early and the loader refuses it, naming the largest size the text allows.

Example:
    >>> text = "the cat sat on the mat; the cat ate the rat. " * 20
    >>> tokenizer = BytePairTokenizer.train(text, vocab_size=270)
    >>> tokenizer.size, tokenizer.decode(tokenizer.encode("the rat sat")), len(tokenizer.encode("the cat")) < 7
    (270, 'the rat sat', True)
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from neuralab.errors import DataError, RunError

FORMAT = "neuralab.bpe/1"
BYTES = 256  # every byte value is a token of its own: the alphabet of a byte-level BPE
MIN_PAIR_COUNT = 2  # a pair seen once is not worth a token
MAX_JSON_CHARACTERS = 20_000_000  # a saved tokenizer larger than this is not one neuralab wrote


class BytePairTokenizer:
    """A trained byte-level BPE tokenizer with the character vocabulary's interface.

    Args:
        tokenizer: a ``tokenizers.Tokenizer`` with a byte-level BPE model.
    """

    task = "multiclass"

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    @classmethod
    def train(cls, text: str, *, vocab_size: int) -> "BytePairTokenizer":
        """Learn ``vocab_size − 256`` merges from ``text``.

        Raises:
            DataError: the text allows fewer tokens than ``vocab_size`` (the line names how many).
        """
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=MIN_PAIR_COUNT, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
        tokenizer.train_from_iterator([text], trainer=trainer)
        found = tokenizer.get_vocab_size()
        if found < vocab_size:
            raise DataError(f"data.vocab_size: {vocab_size:,} is more than this text allows: byte-pair merging stops "
                            f"at {found:,} tokens ({BYTES} bytes + {found - BYTES:,} merges of pairs seen at least "
                            f"{MIN_PAIR_COUNT} times in {len(text):,} characters); use data.vocab_size ≤ {found:,} "
                            "or more text")
        return cls(tokenizer)

    @property
    def size(self) -> int:
        return self.tokenizer.get_vocab_size()

    @property
    def classes(self) -> list[str]:
        """Each token's text, in id order (a token that is part of a multi-byte character shows as �)."""
        return [self.tokenizer.decode([index]) for index in range(self.size)]

    @property
    def input_columns(self) -> list[str]:
        return ["token"]

    @property
    def feature_names(self) -> list[str]:
        return ["token"]

    def unknown(self, text: str) -> list[str]:
        """Always empty: every byte is a token, so any text can be encoded."""
        return []

    def encode(self, text: str) -> np.ndarray:
        """Token ids (n,) int64 of ``text``."""
        return np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)

    def decode(self, ids) -> str:
        """The text of token ids."""
        return self.tokenizer.decode([int(i) for i in np.asarray(ids).ravel()])

    def labels(self, indices: np.ndarray) -> list[str]:
        return [self.tokenizer.decode([int(i)]) for i in np.asarray(indices).ravel()]

    def characters_per_token(self, text: str) -> float:
        """Characters of ``text`` per token: bits per character = loss (nats per token) / ln 2 / this."""
        return len(text) / max(len(self.encode(text)), 1)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "tokenizer": json.loads(self.tokenizer.to_str())}

    @classmethod
    def from_dict(cls, data: Any) -> "BytePairTokenizer":
        """Rebuild a tokenizer from :meth:`to_dict`'s output, validating it.

        Raises:
            RunError: not a saved byte-level BPE tokenizer.
        """
        if not isinstance(data, dict) or set(data) != {"format", "tokenizer"} or data["format"] != FORMAT:
            raise RunError(f"tokenizer: expected {{'format': {FORMAT!r}, 'tokenizer': {{...}}}}")
        saved = data["tokenizer"]
        if not isinstance(saved, dict) or (saved.get("model") or {}).get("type") != "BPE":
            raise RunError("tokenizer: 'tokenizer' is not a byte-pair-encoding model")
        text = json.dumps(saved)
        if len(text) > MAX_JSON_CHARACTERS:
            raise RunError(f"tokenizer: {len(text):,} characters of JSON; a saved tokenizer is at most "
                           f"{MAX_JSON_CHARACTERS:,}")
        try:
            tokenizer = Tokenizer.from_str(text)
        except Exception as error:  # the library raises its own exception type for bad JSON
            raise RunError(f"tokenizer: cannot be read ({str(error).splitlines()[0][:200]})") from None
        if tokenizer.get_vocab_size() < BYTES:
            raise RunError(f"tokenizer: {tokenizer.get_vocab_size()} tokens; a byte-level BPE has at least {BYTES}")
        return cls(tokenizer)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BytePairTokenizer) and self.tokenizer.to_str() == other.tokenizer.to_str()

    def __repr__(self) -> str:
        return f"BytePairTokenizer(size={self.size})"


def default_prompt(vocabulary: Any) -> str:
    """What generation starts from when no prompt is given: a line break, else the first token.

    Example:
        >>> from neuralab.data.text import Vocabulary
        >>> default_prompt(Vocabulary(["a", "b"])), default_prompt(Vocabulary(["\\n", "a"]))
        ('a', '\\n')
    """
    return "\n" if not vocabulary.unknown("\n") else vocabulary.decode([0])


def streamed_text(vocabulary: Any, tokens: Iterable[int]) -> Iterator[str]:
    """The text of token ids as they come, piece by piece (a character split over two byte tokens waits).

    Example:
        >>> from neuralab.data.text import Vocabulary
        >>> list(streamed_text(Vocabulary(["a", "b"]), [1, 0, 1]))
        ['b', 'a', 'b']
    """
    pending: list[int] = []
    for token in tokens:
        pending.append(int(token))
        text = vocabulary.decode(pending)
        if not text.endswith("\ufffd") or len(pending) >= 4:  # UTF-8 characters are at most 4 bytes
            pending = []
            yield text
    if pending:
        yield vocabulary.decode(pending)


def bits_per_character(loss: float, *, characters_per_token: float = 1.0) -> float:
    """Bits per character of a loss in nats per token: loss / ln 2 / characters per token.

    Example:
        >>> round(bits_per_character(math.log(2)), 6), round(bits_per_character(math.log(4), characters_per_token=2), 6)
        (1.0, 1.0)
    """
    return loss / math.log(2) / characters_per_token


def perplexity(loss: float) -> float:
    """e^loss: the number of equally likely tokens the model's uncertainty amounts to.

    Example:
        >>> round(perplexity(math.log(65)), 6)
        65.0
    """
    return math.exp(min(loss, 700.0))
