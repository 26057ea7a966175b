"""Export a trained run to ONNX or TorchScript: raw rows in, predictions out.

The exported model is the run's network *with* its preprocessing — feature expansion of
the synthetic sets and standardisation with the training split's statistics, computed by
the run's own :class:`~neuralab.data.Preprocessor` on tensors — and its output head, so it
takes the rows a prediction file holds (``preprocessor.input_columns``, float32) and any
batch size. Classifiers give ``probabilities`` (batch, classes) and ``label`` (batch,)
class indices, whose names are in the file's metadata (``neuralab.classes``); regression
gives ``prediction`` (batch,) in the target's units (float64, as :func:`neuralab.predict`).

Every export is checked before it is reported: the written file is loaded back
(onnxruntime, or ``torch.jit.load``) and run on seeded rows in two batch sizes, and its
outputs must match :func:`neuralab.predict` to 1e-5 (relative, for regression values above 1).

Example:
    >>> import neuralab, tempfile
    >>> from neuralab.export import export_run
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
    ...                       "train": {"epochs": 1}}, out_dir=tempfile.mkdtemp())
    >>> result = export_run(run.dir, format="torchscript", output=f"{tempfile.mkdtemp()}/xor.pt")
    >>> result.outputs, result.max_difference < 1e-5
    (['probabilities', 'label'], True)
"""
from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from neuralab.errors import RunError, SpecError, not_one_of
from neuralab.data import Preprocessor
from neuralab.models import kind_of
from neuralab.runs.run import Run, load_run

log = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript")
EXPORTED_DATA = "tabular"  # rows of numbers: what an exported model's one input takes
TOLERANCE = 1e-5  # largest difference from neuralab.predict an export may show (relative above 1)
CHECK_BATCHES = (1, 64)  # rows run through the exported file: a lone row and a batch
EXTRAS = {"onnx": "onnx, onnxscript and onnxruntime", "torchscript": None}


@dataclass
class ExportResult:
    """A written export and what it was checked against.

    Attributes:
        path: the file written.
        format: ``onnx`` or ``torchscript``.
        inputs: the raw input columns, in order (the model's one input is ``inputs``).
        outputs: output names (``probabilities`` and ``label``, or ``prediction``).
        classes: class labels in label-index order (``[]`` for regression).
        max_difference: largest difference from :func:`neuralab.predict` on the check rows
            (absolute for probabilities; relative for regression values above 1).
    """

    path: Path
    format: str
    inputs: list[str]
    outputs: list[str]
    classes: list
    max_difference: float


class ExportedModel(nn.Module):
    """A run's network between its preprocessing and its output head: raw rows → predictions.

    Args:
        run: a trained :class:`~neuralab.run.Run`.
    """

    def __init__(self, run: Run):
        super().__init__()
        self.network = run.model.eval()
        self.preprocessor, self.head = run.preprocessor, run.head

    @property
    def output_names(self) -> list[str]:
        return ["probabilities", "label"] if self.head.is_classifier else ["prediction"]

    def forward(self, raw: Tensor) -> tuple[Tensor, ...]:
        # raw: (batch, n_columns) float32. The Preprocessor computes in float64, as on numpy.
        inputs = self.preprocessor.scale_inputs(raw.double(), xp=torch).float()  # (batch, n_features)
        scores = self.network(inputs)  # (batch, n_outputs)
        if self.head.is_classifier:
            return self.head.probabilities(scores), self.head.predict(scores)  # (batch, K), (batch,)
        values = self.head.predict(scores).double()  # (batch,), standardised units
        return (self.preprocessor.inverse_target(values, xp=torch),)


def export_run(run: Run | str | Path, *, format: str, output: str | Path) -> ExportResult:
    """Write a run's network with its preprocessing to ``output`` as ONNX or TorchScript, and check it.

    Args:
        run: a :class:`~neuralab.run.Run` or a finished run directory.
        format: ``onnx`` (needs the ``onnx`` extra: onnx, onnxscript, onnxruntime) or ``torchscript``.
        output: the file to write (its folder is created).

    Raises:
        SpecError: an unknown format.
        RunError: the run cannot be exported (its model kind, non-finite weights, a missing
            package) or the written file does not reproduce :func:`neuralab.predict`.
    """
    if format not in FORMATS:
        raise SpecError(not_one_of("--format", format, FORMATS))
    _require_packages(format)
    run = run if isinstance(run, Run) else load_run(run)
    _check_exportable(run)
    module = ExportedModel(run)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    example = torch.from_numpy(check_rows(run, CHECK_BATCHES[-1]))
    metadata = {"neuralab.run": str(run.summary.get("name", run.spec.name)), "neuralab.task": run.head.task,
                "neuralab.input_columns": json.dumps(run.preprocessor.input_columns),
                "neuralab.classes": json.dumps(run.preprocessor.classes),
                "neuralab.outputs": json.dumps(module.output_names)}
    (_write_onnx if format == "onnx" else _write_torchscript)(module, example, output, metadata)
    difference = max(_difference(run, _runner(format, output), rows) for rows in CHECK_BATCHES)
    if not difference <= TOLERANCE:
        raise RunError(f"export: {output} differs from neuralab.predict by {difference:.3g} "
                       f"(more than {TOLERANCE:g}); the file was written but should not be used")
    log.info("exported %s as %s to %s (max difference %.3g)", run.dir, format, output, difference)
    return ExportResult(path=output, format=format, inputs=list(run.preprocessor.input_columns),
                        outputs=module.output_names, classes=list(run.preprocessor.classes),
                        max_difference=difference)


def check_rows(run: Run, count: int) -> np.ndarray:
    """``count`` seeded float32 rows of the run's raw input width to check an export on: around
    the training inputs' mean and spread where the model inputs are the raw columns, 2·N(0, 1)
    where they are features of x1, x2 (the synthetic sets span about ±6)."""
    generator = np.random.default_rng(0)
    pre = run.preprocessor
    noise = generator.standard_normal((count, len(pre.input_columns)))
    if pre.features is None:
        return (np.asarray(pre.input_mean) + noise * np.asarray(pre.input_std)).astype(np.float32)
    return (2.0 * noise).astype(np.float32)


def _check_exportable(run: Run) -> None:
    kind = kind_of(run.spec.model)
    problems = []
    if EXPORTED_DATA not in kind.data_kinds or not isinstance(run.preprocessor, Preprocessor):
        problems.append(f"export: model.kind {kind.name!r} learns from {' or '.join(kind.data_kinds)} data; "
                        f"export takes {EXPORTED_DATA} rows only (raw numbers in, predictions out)")
    if not all(torch.isfinite(tensor).all() for tensor in run.model.state_dict().values()
               if tensor.is_floating_point()):
        problems.append("export: the run's weights hold NaN or inf (a diverged run that kept no finite "
                        "weights); retrain it (see `neuralab diagnose` for the cause)")
    if problems:
        raise RunError(problems)


def _require_packages(format: str) -> None:
    if format != "onnx":
        return
    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if not _importable(name)]
    if missing:
        raise RunError(f"export: ONNX export needs the {EXTRAS['onnx']} packages ({', '.join(missing)} missing); "
                       "install them with: pip install 'neuralab[onnx]'")


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@contextlib.contextmanager
def _quiet_exporters() -> Iterator[None]:
    """PyTorch's exporters warn about things that do not concern a user (TorchScript's
    deprecation, optional torchvision kernels); library code never prints."""
    torch_onnx = logging.getLogger("torch.onnx")
    level = torch_onnx.level
    torch_onnx.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch_onnx.setLevel(level)


def _write_onnx(module: ExportedModel, example: Tensor, output: Path, metadata: dict[str, str]) -> None:
    with _quiet_exporters(), torch.no_grad():
        program = torch.onnx.export(module, (example,), dynamo=True, input_names=["inputs"],
                                    output_names=module.output_names, verbose=False,
                                    dynamic_shapes={"raw": {0: torch.export.Dim("batch")}})
    program.model.metadata_props.update(metadata)
    program.save(str(output))


def _write_torchscript(module: ExportedModel, example: Tensor, output: Path, metadata: dict[str, str]) -> None:
    with _quiet_exporters(), torch.no_grad():
        traced = torch.jit.trace(module, (example,), check_inputs=[(example[:1],)])
        torch.jit.save(traced, str(output), _extra_files={"neuralab.json": json.dumps(metadata)})


def _runner(format: str, path: Path) -> Any:
    """A function rows → the exported file's outputs (numpy), loaded back from disk."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda rows: session.run(None, {"inputs": rows})
    with _quiet_exporters():
        loaded = torch.jit.load(str(path))
    return lambda rows: [tensor.detach().numpy() for tensor in loaded(torch.from_numpy(rows))]


def _difference(run: Run, runner: Any, count: int) -> float:
    """Largest absolute difference between the exported outputs and neuralab.predict on ``count`` rows."""
    from neuralab.api import predict

    rows = check_rows(run, count)
    outputs, expected = runner(rows), predict(run, rows)
    if not run.head.is_classifier:
        values = np.asarray(expected["prediction"])
        # float32 rounding scales with the value: above 1 the difference is relative
        return float(np.max(np.abs(outputs[0] - values) / np.maximum(1.0, np.abs(values))))
    classes = run.summary.get("classes") or list(range(run.head.n_outputs))
    probabilities = np.stack([expected[f"probability_{label}"] for label in classes], axis=1)
    labels = [classes.index(label) for label in expected["prediction"]]
    if not np.array_equal(outputs[1], labels):
        return float("inf")
    return float(np.max(np.abs(outputs[0] - probabilities)))
