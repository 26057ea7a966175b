"""Text samples at a few epochs; a language model interrupted mid-epoch resumes bit for bit, samples and all."""
from __future__ import annotations

import os
import signal

import pytest
import torch

import neuralab
from neuralab.errors import TrainingInterrupted
from neuralab.training import Callback
from neuralab.training.callbacks.text_samples import sample_epochs

SPEC = {"name": "lm", "seed": 2, "data": {"dataset": "shakespeare", "max_characters": 3000, "sequence_length": 16},
        "model": {"kind": "lstm", "dropout": 0.1, "recurrent": {"hidden_size": 10, "layers": 2}},
        "train": {"epochs": 3, "batch_size": 32, "learning_rate": 0.02, "grad_clip": 0.5},
        "diagnose": {"text_samples": 2, "health_every": 2}}


class SignalAt(Callback):
    def __init__(self, step: int):
        self.step = step

    def on_batch_end(self, state):
        if state.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def test_sample_epochs_are_evenly_spaced_and_include_the_last():
    assert sample_epochs(3, 2) == [1, 3] and sample_epochs(1, 4) == [1] and sample_epochs(9, 1) == [9]


def test_an_interrupted_language_model_resumes_to_the_same_run(tmp_path):
    whole = neuralab.train(SPEC, out_dir=tmp_path / "whole")
    assert [s["epoch"] for s in whole.samples] == [1, 3] and all(len(s["text"]) == 300 for s in whole.samples)
    assert "clip_rate" in whole.history[0] and whole.health["through_time"]
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path / "cut", callbacks=[SignalAt(step=12)])  # 8 steps an epoch
    resumed = neuralab.resume(caught.value.run_dir)
    strip = lambda history: [{k: v for k, v in row.items() if k != "seconds"} for row in history]  # noqa: E731
    assert strip(resumed.history) == strip(whole.history)
    assert resumed.samples == whole.samples and resumed.health["through_time"] == whole.health["through_time"]
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name
    again = neuralab.load_run(resumed.dir)
    assert again.samples == whole.samples and again.preprocessor == whole.preprocessor
