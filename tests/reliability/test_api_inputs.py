"""The Python API refuses bad arguments with a NeuralabError naming the problem, like the CLI."""
from __future__ import annotations

import numpy as np
import pytest

import neuralab
from neuralab.errors import NeuralabError


def _bomb(levels: int = 9) -> dict:
    """What yaml.safe_load makes of a 9-level alias bomb: 10^9 items through shared lists, a few KB in memory."""
    layer: list = ["x"] * 10
    for _ in range(levels - 1):
        layer = [layer] * 10
    return {"model": {"hidden": layer}}


def _deep(levels: int) -> dict:
    node: dict = {}
    root = node
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


@pytest.mark.parametrize("call, message", [
    (lambda: neuralab.load_spec(123), "expected a spec file path, a mapping or an ExperimentSpec, not int"),
    (lambda: neuralab.load_spec([1, 2]), "not list"),
    (lambda: neuralab.load_spec("/"), "is not a file"),
    (lambda: neuralab.load_spec({"train": {"epochs": object()}}), "train.epochs"),
    (lambda: neuralab.load_spec(None, overrides=["=3"]), "expected dotted.key=value"),
    (lambda: neuralab.load_spec(None, overrides={"train": 3}), "train: 3"),
    (lambda: neuralab.load_spec(None, overrides=["model.hidden=" + "[" * 5000]), "model.hidden"),
    (lambda: neuralab.train({"model": {"hidden": [4096] * 8}}, out_dir=None), "model.hidden"),
    (lambda: neuralab.train({"data": {"dataset": "csv", "path": "/dev/zero"}}, out_dir=None), "is not a file"),
    (lambda: neuralab.load_run("/"), "lacks"),
    (lambda: neuralab.resume("/nonexistent-run"), "is not a directory"),
    (lambda: neuralab.predict("/nonexistent-run", np.zeros((2, 2))), "is not a directory"),
    (lambda: neuralab.load_spec(_bomb()), "spec: holds more than 10,000 values"),
    (lambda: neuralab.load_spec(None, overrides={"model.hidden": _bomb()["model"]["hidden"]}),
     "model.hidden: holds more than 10,000 values"),
    (lambda: neuralab.load_spec(None, overrides=["model.hidden=[&a 4, *a]"]), "--set model.hidden: aliases (*a)"),
    (lambda: neuralab.load_spec(None, overrides=["train={epochs: 3, epochs: 4}"]), "key 'epochs' is given twice"),
    (lambda: neuralab.load_spec(_deep(100)), "nested too deeply (more than 32 levels)"),
    (lambda: neuralab.load_spec({"seed": True}), "seed: True — must be a number"),
], ids=["int", "list", "directory", "object-value", "empty-key", "section-not-mapping", "deep-override",
        "too-many-parameters", "endless-device", "not-a-run", "resume-missing", "predict-missing",
        "alias-bomb-mapping", "alias-bomb-override", "alias-in-set", "repeated-key-in-set", "deep-mapping",
        "truth-value-seed"])
def test_bad_api_arguments_raise_neuralab_errors(call, message, time_limit):
    with time_limit(20), pytest.raises(NeuralabError) as caught:
        call()
    assert message in str(caught.value)
