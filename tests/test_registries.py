"""Every registry entry trains: one parametrised test over activations, inits, optimisers,
schedules, losses, data sets and model kinds. The loss must stay finite and, for a sane setup, fall."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neuralab
from neuralab.spec import catalog

BASE = {"seed": 0, "data": {"dataset": "gauss", "n_samples": 100},
        "model": {"hidden": [8], "activation": "tanh", "init": "xavier_uniform"},
        "train": {"epochs": 6, "batch_size": 20, "learning_rate": 0.03, "optimizer": "adam"}}
LEARNING_RATE = {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.3, "rmsprop": 0.01, "adadelta": 1.0}


def entries():
    for name in catalog.ACTIVATIONS:
        yield "model.activation", name, True
    for name in catalog.INITS:
        yield "model.init", name, name != "zeros"  # zeros trains, but symmetric: no promise it falls
    for name in catalog.OPTIMIZERS:
        yield "train.optimizer", name, True
    for name in catalog.SCHEDULES:
        yield "train.schedule.name", name, True
    for name in catalog.LOSSES:
        yield "train.loss", name, True
    for name in catalog.DATASETS:
        yield "data.dataset", name, True
    for name in catalog.MODEL_KINDS:
        yield "model.kind", name, True


# Sequence and text data sets train a small LSTM on short sequences; model kinds learn the adding problem.
SEQUENCE = {"model.kind": "lstm", "model.recurrent.hidden_size": 8, "data.sequence_length": 8, "data.n_samples": 100,
            "train.learning_rate": 0.03}


def sequence_overrides(field: str, name: str, folder) -> dict:
    if field == "model.kind" and name == "transformer":
        return {**SEQUENCE, "data.dataset": "adding", field: name, "train.learning_rate": 0.003,
                "model.transformer": {"layers": 1, "heads": 2, "embed_dim": 16}}
    if field == "model.kind":
        return {} if name == "mlp" else {**SEQUENCE, "data.dataset": "adding", field: name}
    if catalog.DATASETS[name].properties["data kind"] == "tabular":
        return {}
    overrides = {**SEQUENCE, "data.max_characters": 3000} if name == "shakespeare" else dict(SEQUENCE)
    if name == "text":
        path = folder / "poem.txt"
        path.write_text("the quick brown fox jumps over the lazy dog\n" * 40, encoding="utf-8")
        overrides["data.path"] = str(path)
    return overrides


def file_data(kind: str, folder) -> dict:
    generator = np.random.default_rng(0)
    x = generator.normal(size=(90, 3))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    path = folder / f"points.{kind}"
    if kind == "csv":
        lines = ["a,b,c,label"] + [f"{r[0]},{r[1]},{r[2]},{l}" for r, l in zip(x, label)]
        path.write_text("\n".join(lines) + "\n")
    else:
        pq.write_table(pa.table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": label}), path)
    return {"data.path": str(path), "data.target": "label"}


@pytest.mark.parametrize("field, name, should_fall", list(entries()), ids=lambda v: str(v))
def test_every_entry_trains(field, name, should_fall, tmp_path):
    overrides = {field: name}
    if field == "train.optimizer":
        overrides["train.learning_rate"] = LEARNING_RATE.get(name, 0.03)
    if field == "data.dataset" and name in catalog.FILE_DATASETS:
        overrides.update(file_data(name, tmp_path))
    if field == "data.dataset" and name in ("digits",):
        overrides["model.hidden"] = [16]
    if field == "train.schedule.name" and name == "warmup":
        overrides["train.schedule.steps"] = 2
    if field in ("data.dataset", "model.kind"):
        overrides.update(sequence_overrides(field, name, tmp_path))
    run = neuralab.train(BASE, out_dir=None, overrides=overrides)
    losses = [row["train_loss"] for row in run.history]
    assert len(losses) == 6 and all(math.isfinite(v) for v in losses)
    if should_fall:
        assert losses[-1] < losses[0], f"{field}={name}: {losses}"
