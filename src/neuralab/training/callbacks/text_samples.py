"""Keep a generated text sample at a few epochs of a language model, for the report.

Reading the samples epoch after epoch shows a character model learn: noise, then words and
spaces, then speaker names and line breaks. The sampler draws from a generator of its own
(seeded from the spec's seed), in eval mode and without gradients, so training is unchanged
by it; its samples are kept in checkpoints, so a resumed run has all of them.

Example:
    >>> sample_epochs(10, 4), sample_epochs(2, 4), sample_epochs(5, 0)
    ([1, 4, 7, 10], [1, 2], [])
"""
from __future__ import annotations

from typing import Any

import torch

from neuralab.data.tokenization import default_prompt
from neuralab.models.sampling import sample_tokens
from neuralab.training.events import Callback, TrainingState

SAMPLE_LENGTH = 300  # characters per sample
SAMPLE_TEMPERATURE = 0.8


def sample_epochs(epochs: int, count: int) -> list[int]:
    """``count`` epochs (1-based) evenly spaced from the first to the last of ``epochs``."""
    if count <= 0:
        return []
    if count == 1:
        return [epochs]
    return sorted({round(1 + i * (epochs - 1) / (count - 1)) for i in range(count)})


class TextSamples(Callback):
    """After the chosen epochs, generate ``length`` characters from ``prompt`` and keep them.

    Args:
        vocabulary: the run's :class:`~neuralab.data.Vocabulary` (encode/decode).
        epochs: the 1-based epochs to sample after.
        seed: the seed of the sampler's own generator.
        length, temperature: characters per sample and the sampling temperature.
    """

    def __init__(self, vocabulary: Any, *, epochs: list[int], seed: int, length: int = SAMPLE_LENGTH,
                 temperature: float = SAMPLE_TEMPERATURE):
        self.vocabulary, self.epochs, self.seed = vocabulary, set(epochs), seed
        self.length, self.temperature = length, temperature
        self.prompt = default_prompt(vocabulary)
        self.samples: list[dict[str, Any]] = []

    def on_epoch_end(self, state: TrainingState) -> None:
        epoch = len(state.history)
        if epoch not in self.epochs or any(s["epoch"] == epoch for s in self.samples):
            return
        device = next(state.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(self.seed + epoch)
        ids = sample_tokens(state.model, torch.from_numpy(self.vocabulary.encode(self.prompt)), length=self.length,
                            temperature=self.temperature, generator=generator)
        self.samples.append({"epoch": epoch, "prompt": self.prompt, "temperature": self.temperature,
                             "dev_loss": state.history[-1].get("dev_loss"),
                             "text": self.vocabulary.decode(list(ids))})

    def checkpoint_state(self) -> dict[str, Any]:
        return {"samples": self.samples}

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        self.samples = list(saved["samples"])
