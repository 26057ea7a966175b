"""The symmetry problem: zero init keeps every hidden unit identical through training; He init does not."""
from __future__ import annotations

import torch

import neuralab


def hidden_rows(init: str) -> torch.Tensor:
    spec = neuralab.load_spec({
        "data": {"dataset": "circle", "n_samples": 120},
        "model": {"hidden": [6], "activation": "sigmoid", "init": init},
        "train": {"epochs": 5, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.5},
    })
    run = neuralab.train(spec, out_dir=None)
    return run.model.hidden[0].linear.weight.detach()  # (6 units, 2 inputs)


def test_zero_init_units_stay_identical():
    rows = hidden_rows("zeros")
    assert torch.allclose(rows, rows[0].expand_as(rows))
    assert float(rows.abs().sum()) > 0  # they did train — all in the same way


def test_he_normal_units_differ():
    rows = hidden_rows("he_normal")
    assert not torch.allclose(rows, rows[0].expand_as(rows))
