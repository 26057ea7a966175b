"""Text for character-level language models: the bundled tiny Shakespeare or any UTF-8 file.

The corpus is cut into contiguous train/dev/test blocks (90/5/5 unless ``data.split`` says
otherwise: a language model is tested on text it has never read, not on shuffled
neighbours of its training windows), each block into non-overlapping windows of
``data.sequence_length`` characters whose targets are the same window shifted by one —
truncated back-propagation through time over T steps. The characters of the whole corpus
make the :class:`Vocabulary`, saved with the run (``model.json``) so a trained model can be
sampled and scored later. The baseline is the cross-entropy of the train block's character
frequencies on the dev block (a model without memory); at initialisation a model should
score ln V (a uniform guess over V characters).

Tiny Shakespeare (1,115,394 characters; public domain, the copy in karpathy/char-rnn is MIT)
ships inside the package, xz-compressed.

Example:
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_text(DataSpec(dataset="shakespeare", sequence_length=50, max_characters=20_000))
    >>> bundle.x_train.shape, bundle.vocab_size, bundle.preprocessor.decode(bundle.x_train[0][:14])
    ((359, 50), 58, 'First Citizen:')
"""
from __future__ import annotations

import lzma
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.data.containers import DataBundle
from neuralab.data.sequences import contiguous_blocks, series_windows
from neuralab.data.tokenization import BytePairTokenizer
from neuralab.errors import DataError, RunError
from neuralab.spec import DataSpec

FORMAT = "neuralab.vocabulary/1"
TEXT_SPLIT = [0.9, 0.05, 0.05]
MAX_VOCABULARY = 100_000  # distinct characters; a file with more is not text a character model can learn
MAX_FILE_BYTES = 1_000_000_000


@dataclass
class Vocabulary:
    """The characters a language model knows, in token-id order; turns text into ids and back.

    Example:
        >>> vocabulary = Vocabulary(["\\n", " ", "a", "b"])
        >>> vocabulary.encode("ab a").tolist(), vocabulary.decode([3, 2])
        ([2, 3, 1, 2], 'ba')
        >>> Vocabulary.from_dict(vocabulary.to_dict()) == vocabulary
        True
    """

    characters: list[str]
    task: str = "multiclass"

    @property
    def size(self) -> int:
        return len(self.characters)

    @property
    def classes(self) -> list[str]:
        return list(self.characters)

    @property
    def input_columns(self) -> list[str]:
        return ["character"]

    @property
    def feature_names(self) -> list[str]:
        return ["character"]

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` outside the vocabulary, in order of appearance."""
        known = set(self.characters)
        return list(dict.fromkeys(ch for ch in text if ch not in known))

    def encode(self, text: str) -> np.ndarray:
        """Token ids (len(text),) int64 of ``text``.

        Raises:
            DataError: ``text`` holds characters the vocabulary lacks (each is named).
        """
        missing = self.unknown(text)
        if missing:
            raise DataError(f"prompt: {', '.join(map(repr, missing[:10]))} {'is' if len(missing) == 1 else 'are'} "
                            f"not in the vocabulary of {self.size} characters the model was trained on")
        codes = _code_points(text)
        order = _code_points("".join(self.characters))
        sorter = np.argsort(order)
        return sorter[np.searchsorted(order, codes, sorter=sorter)].astype(np.int64)

    def decode(self, ids) -> str:
        """The text of token ids."""
        return "".join(self.characters[int(i)] for i in np.asarray(ids).ravel())

    def labels(self, indices: np.ndarray) -> list[str]:
        return [self.characters[int(i)] for i in np.asarray(indices).ravel()]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "characters": list(self.characters)}

    @classmethod
    def from_dict(cls, data: Any) -> "Vocabulary":
        """Rebuild a vocabulary from :meth:`to_dict`'s output, validating it.

        Raises:
            RunError: not a vocabulary, or characters that are not distinct single characters.
        """
        if not isinstance(data, dict) or set(data) != {"format", "characters"} or data["format"] != FORMAT:
            raise RunError(f"vocabulary: expected {{'format': {FORMAT!r}, 'characters': [...]}}")
        characters = data["characters"]
        if (not isinstance(characters, list) or not 2 <= len(characters) <= MAX_VOCABULARY
                or not all(isinstance(ch, str) and len(ch) == 1 for ch in characters)
                or len(set(characters)) != len(characters)):
            raise RunError("vocabulary: 'characters' must be 2 or more distinct single characters")
        return cls(list(characters))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def read_corpus(data: DataSpec) -> str:
    """The text of ``data.dataset`` (the bundled Shakespeare, or ``data.path``), cut to ``data.max_characters``.

    Raises:
        DataError: the file is missing, empty, not UTF-8, or too large.
    """
    if data.dataset == "shakespeare":
        packed = resources.files("neuralab.data").joinpath("corpora/shakespeare.txt.xz").read_bytes()
        text = lzma.decompress(packed).decode("utf-8")
    else:
        text = _read_file(Path(data.path))
    return text[:data.max_characters] if data.max_characters else text


def _read_file(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"data.path: {str(path)!r} {'is not a file' if path.exists() else 'does not exist'}")
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"data.path: {str(path)!r} is empty — a language model needs text to read")
    if size > MAX_FILE_BYTES:
        raise DataError(f"data.path: {str(path)!r} is {size:,} bytes; text files are read up to {MAX_FILE_BYTES:,}")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"data.path: {str(path)!r} is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                        f"{error.start:,}); save it as UTF-8") from None


def load_text(data: DataSpec, *, seed: int = 0, vocabulary: Vocabulary | BytePairTokenizer | None = None) -> DataBundle:
    """Read a corpus, build its vocabulary, cut it into contiguous blocks and windows of T tokens.

    The vocabulary is the text's characters (``data.tokenizer: char``) or a byte-level BPE
    trained on it (``bpe``, :mod:`neuralab.data.tokenization`); windows count tokens.

    Args:
        data: the data section (dataset, path, sequence_length, max_characters, split, tokenizer, vocab_size).
        seed: unused (text is not generated or shuffled here); kept for the loader signature.
        vocabulary: encode with this vocabulary instead of building one (fine-tuning a trained model).

    Raises:
        DataError: an unreadable, empty or one-character text, blocks too short for one window, a BPE
            vocabulary larger than the text allows, or characters the given vocabulary lacks.
    """
    text = read_corpus(data)
    vocabulary = vocabulary if vocabulary is not None else (
        BytePairTokenizer.train(text, vocab_size=data.vocab_size) if data.tokenizer == "bpe" else
        _characters_of(text))
    missing = vocabulary.unknown(text)
    if missing:
        raise DataError(f"data: the text has {len(missing):,} characters the model's vocabulary of {vocabulary.size} "
                        f"lacks ({', '.join(map(repr, missing[:5]))}{', …' if len(missing) > 5 else ''}); fine-tune "
                        "on text written in the same characters, or train a new model")
    ids = vocabulary.encode(text)
    fractions = list(data.split) if data.split != "auto" else TEXT_SPLIT
    length, parts = data.sequence_length, {}
    for name, (start, stop) in zip(("train", "dev", "test"), contiguous_blocks(len(ids), fractions)):
        if stop - start <= length:
            raise DataError(f"data.sequence_length: {length} leaves no window in the {name} block ({stop - start:,} "
                            f"of {len(ids):,} characters); use a shorter sequence_length or more text")
        parts[name] = series_windows(ids[start:stop], length, stride=length)
    train_stop, dev_stop = contiguous_blocks(len(ids), fractions)[1]
    baseline = unigram_cross_entropy(ids[:train_stop], ids[train_stop:dev_stop], vocabulary.size)
    return DataBundle(
        dataset=data.dataset, task="multiclass", feature_names=vocabulary.feature_names,
        input_columns=vocabulary.input_columns, classes=vocabulary.classes,
        **{f"x_{name}": x for name, (x, _) in parts.items()}, **{f"y_{name}": y for name, (_, y) in parts.items()},
        **{f"raw_{name}": x for name, (x, _) in parts.items()},
        preprocessor=vocabulary, split_fractions=fractions, kind="text", vocab_size=vocabulary.size,
        sequence_length=length, output_steps="every", baseline_loss=baseline,
        baseline_rule=f"the train block's {'token' if isinstance(vocabulary, BytePairTokenizer) else 'character'} "
                      f"frequencies, without memory (a uniform guess: ln {vocabulary.size} = "
                      f"{math.log(vocabulary.size):.3f})")


def _characters_of(text: str) -> Vocabulary:
    """The character vocabulary of ``text`` (its distinct characters, sorted)."""
    characters = sorted(set(text))
    if len(characters) < 2:
        raise DataError(f"data: the text has {len(text):,} characters but only {len(characters)} distinct one; "
                        "a language model needs at least 2")
    if len(characters) > MAX_VOCABULARY:
        raise DataError(f"data: the text has {len(characters):,} distinct characters; at most {MAX_VOCABULARY:,}")
    return Vocabulary(characters)


def unigram_cross_entropy(train: np.ndarray, dev: np.ndarray, size: int) -> float:
    """Nats per character of the train block's character frequencies (add-one smoothed) on the dev block.

    Example:
        >>> round(unigram_cross_entropy(np.array([0, 1]), np.array([0, 1]), 2), 4) == round(math.log(2), 4)
        True
    """
    counts = np.bincount(train, minlength=size) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[dev].mean())
