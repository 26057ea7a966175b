"""The training loops neuralab is compared with: same model, data, optimiser, batch size, epochs.

Each contender takes the same arrays and returns (seconds spent training, test accuracy).
Timing covers training only (data already in memory, imports done), except where named.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def mlp(n_inputs: int, hidden: list[int], n_classes: int) -> torch.nn.Sequential:
    """The benchmark network: Linear→ReLU blocks, He-normal weights, zero biases."""
    layers, width = [], n_inputs
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    layers.append(torch.nn.Linear(width, n_classes))
    model = torch.nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    return model


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).double().mean())


def hand_loop(data, *, hidden, epochs, batch_size, fused: bool, seed: int = 0):
    """A plain PyTorch loop over in-memory tensors: randperm, index slicing, Adam."""
    x, y, x_test, y_test = (torch.from_numpy(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test))
    torch.manual_seed(seed)
    model = mlp(x.shape[1], hidden, int(y.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            loss = loss_fn(model(x[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    return seconds, accuracy(model, x_test, y_test)


def dataloader_loop(data, *, hidden, epochs, batch_size, seed: int = 0):
    """The textbook loop: TensorDataset + DataLoader(shuffle=True)."""
    from torch.utils.data import DataLoader, TensorDataset

    x, y, x_test, y_test = (torch.from_numpy(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test))
    torch.manual_seed(seed)
    model = mlp(x.shape[1], hidden, int(y.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    started = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    return seconds, accuracy(model, x_test, y_test)


def sklearn_mlp(data, *, hidden, epochs, batch_size, seed: int = 0, dtype=np.float32):
    """scikit-learn's MLPClassifier with Adam, no L2, exactly `epochs` passes.

    ``dtype`` is the inputs' type: float32 (as neuralab trains), or float64 — what
    ``load_digits`` and ``make_classification`` return, so what a user fitting them directly
    gets (scikit-learn then computes in float64).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=tuple(hidden), solver="adam", learning_rate_init=1e-3,
                          batch_size=batch_size, max_iter=epochs, alpha=0.0, tol=0.0,
                          n_iter_no_change=epochs + 1, shuffle=True, random_state=seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.x_train.astype(dtype), data.y_train)
    seconds = time.perf_counter() - started
    return seconds, float((model.predict(data.x_test.astype(dtype)) == data.y_test).mean())


def keras_fit(data, *, hidden, epochs, batch_size, seed: int = 0):
    """Keras 3 on its torch backend (run in a child process: the backend is chosen at import)."""
    script = Path(__file__).with_name("keras_child.py")
    with tempfile.TemporaryDirectory() as folder:
        arrays = Path(folder) / "data.npz"
        np.savez(arrays, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
        env = {**os.environ, "KERAS_BACKEND": "torch"}
        result = subprocess.run([sys.executable, str(script), str(arrays), ",".join(map(str, hidden)), str(epochs),
                                 str(batch_size), str(torch.get_num_threads())],
                                capture_output=True, text=True, env=env, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr else "keras failed")
    seconds, acc = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(acc)


def neuralab_api(spec, overrides=None, score=None, **_):
    """neuralab.train(spec, out_dir=None): wall time of the whole fit (every epoch, its scoring and callbacks;
    the doctor's end-of-run histograms, about 0.3 ms, come after the stopwatch stops) and the test accuracy
    (or ``score(summary)``)."""
    import neuralab
    from neuralab.training.events import Callback

    class Stopwatch(Callback):
        def on_fit_start(self, state):
            self.started = time.perf_counter()

        def on_fit_end(self, state):
            self.seconds = time.perf_counter() - self.started

    stopwatch = Stopwatch()
    run = neuralab.train(spec, out_dir=None, overrides=overrides, callbacks=[stopwatch])
    return stopwatch.seconds, score(run.summary) if score else 1 - run.summary["test_error"]


def neuralab_cli(spec, **_):
    """`neuralab train spec.yaml` in a fresh process: wall time including start-up and the run directory."""
    from neuralab.spec import dump_spec

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.yaml"
        path.write_text(dump_spec(spec))
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("neuralab")), "train", str(path), "--out", folder, "-q"],
                       check=True, capture_output=True, timeout=3600)
        seconds = time.perf_counter() - started
        [run] = [p for p in Path(folder).iterdir() if p.is_dir()]
        import json

        return seconds, 1 - json.loads((run / "summary.json").read_text())["test_error"]
