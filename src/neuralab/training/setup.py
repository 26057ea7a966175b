"""What every training path builds from a spec and its data: head, device, model, threads.

``neuralab.train``, tuning trials, learning curves, the learning-rate finder and the
population trainer all start here, so a spec gives the same network (same seed, same
initial weights) whichever front end trains it.

Example:
    >>> import neuralab
    >>> from neuralab.data import load_data
    >>> from neuralab.training.setup import prepare
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]}})
    >>> setup = prepare(spec, load_data(spec.data, seed=spec.seed))
    >>> setup.head.loss, setup.n_parameters, setup.threads
    ('bce', 17, 1)
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from neuralab.data import DataBundle
from neuralab.models import MLP, build_model
from neuralab.spec import ExperimentSpec
from neuralab.training.losses import Head, make_head

log = logging.getLogger(__name__)

# Below this many parameters a second CPU thread costs more in synchronisation than it gains
# (measured with benchmarks/peers.py: digits' 26,000-parameter MLP trains ~10 % faster on two
# threads, a TF-Playground-sized net of a few hundred parameters is slower).
MULTITHREAD_MIN_PARAMETERS = 20_000


@dataclass
class Setup:
    """The pieces one training run needs, built from its spec and data."""

    head: Head
    model: MLP
    device: torch.device
    threads: int
    target_scale: float

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def tensors(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[Tensor, Tensor]:
        """One split's arrays as tensors on the run's device."""
        return torch.from_numpy(inputs).to(self.device), torch.from_numpy(targets).to(self.device)


def prepare(spec: ExperimentSpec, bundle: DataBundle, *, device: torch.device | str | None = None) -> Setup:
    """Build head, model (seeded with ``spec.seed``), device and thread count for ``spec``.

    Args:
        spec: the experiment.
        bundle: its data (for the task, classes and number of inputs).
        device: overrides ``spec.train.device`` when given.

    Raises:
        SpecError: the output activation or loss does not suit the data's task.
    """
    head = make_head(task=bundle.task, n_classes=max(len(bundle.classes), 2),
                     output_activation=spec.model.output_activation, loss=spec.train.loss)
    where = torch.device(device) if device is not None else choose_device(spec.train.device)
    torch.manual_seed(spec.seed)  # initial weights depend on the seed alone
    model = build_model(spec.model, n_inputs=bundle.n_features, n_outputs=head.n_outputs).to(where)
    n_parameters = sum(p.numel() for p in model.parameters())
    threads = spec.train.threads or (torch.get_num_threads() if n_parameters >= MULTITHREAD_MIN_PARAMETERS else 1)
    return Setup(head=head, model=model, device=where, threads=threads, target_scale=target_scale(bundle))


def choose_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU falls back with a warning."""
    if name == "cuda" and not torch.cuda.is_available():
        log.warning("train.device is cuda but no GPU is available; using the CPU")
        return torch.device("cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with ``count`` torch CPU threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def target_scale(bundle: DataBundle) -> float:
    """Std of the regression target (1 when targets are not standardised or for classification)."""
    if bundle.task != "regression":
        return 1.0
    unit = bundle.preprocessor.inverse_target(np.array([0.0, 1.0], dtype=np.float32))
    return float(unit[1] - unit[0])
