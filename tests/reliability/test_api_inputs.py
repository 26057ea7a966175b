"""The Python API refuses bad arguments with a NeuralabError naming the problem, like the CLI."""
from __future__ import annotations

import numpy as np
import pytest

import neuralab
from neuralab.errors import NeuralabError


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
], ids=["int", "list", "directory", "object-value", "empty-key", "section-not-mapping", "deep-override",
        "too-many-parameters", "endless-device", "not-a-run", "resume-missing", "predict-missing"])
def test_bad_api_arguments_raise_neuralab_errors(call, message):
    with pytest.raises(NeuralabError) as caught:
        call()
    assert message in str(caught.value)
