"""Comparing runs: a table of run directories, and two or more runs side by side.

:func:`list_runs` reads every run directory in a folder (finished, diverged or not) and
:func:`runs_table` lays them out — name, date, task, model, the spec fields that differ
between them, dev/test scores and status. :func:`compare_runs` overlays their learning
curves (``compare.png``) and writes the spec diff and the doctor's verdicts side by side
(``compare.md``). Every file is read through :mod:`neuralab.run`; verdicts come from
:func:`neuralab.diagnose` (without learning curves, so nothing is retrained).

Example:
    >>> import neuralab, tempfile
    >>> from neuralab.comparison import list_runs, runs_table
    >>> folder = tempfile.mkdtemp()
    >>> for rate in (0.01, 0.1):
    ...     _ = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
    ...                         "train": {"epochs": 2, "learning_rate": rate}}, out_dir=folder)
    >>> header, rows = runs_table(list_runs(folder)[0])
    >>> header[4:6], [row[5] for row in rows]
    (['model', 'train.learning_rate'], ['0.01', '0.1'])
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.errors import RunError
from neuralab.runs.listing import RunRecord, find_runs, read_run_record
from neuralab.runs.run import load_run
from neuralab.spec import ExperimentSpec
from neuralab.spec.reference import spec_values

log = logging.getLogger(__name__)
IGNORED_FIELDS = ("name",)  # the run's name is its own column
SAME_SPECS = "The runs' specs are the same (but their names)."
NO_VERDICTS = "No run finished, so the doctor has nothing to judge yet."


@dataclass
class Comparison:
    """Two or more runs side by side, and the files written.

    Attributes:
        records: the runs, in the order given.
        names: their labels (directory names), in the same order.
        fields: dotted spec fields whose values differ between them.
        verdicts: one dict of the doctor's verdicts per run (None for a run that did not finish).
        files: ``{"figure": compare.png, "report": compare.md}`` once written.
    """

    records: list[RunRecord]
    names: list[str]
    fields: list[str]
    verdicts: list[dict[str, str] | None]
    files: dict[str, Path] = field(default_factory=dict)

    def diff_rows(self) -> list[list[str]]:
        """One row per differing spec field: the field, then its value in each run."""
        tables = [spec_values(record.spec) for record in self.records]
        return [[name, *(show_value(table.get(name)) for table in tables)] for name in self.fields]

    def verdict_rows(self) -> list[list[str]]:
        """One row per kind of verdict (see :func:`doctor_verdicts`), then each run's."""
        keys = next((list(verdicts) for verdicts in self.verdicts if verdicts), [])
        return [[key, *((verdicts or {}).get(key, "— (did not finish)") for verdicts in self.verdicts)]
                for key in keys]


def differing_fields(specs: Sequence[ExperimentSpec]) -> list[str]:
    """The dotted spec fields (but the name) whose values are not the same in every spec, in spec order."""
    tables = [spec_values(spec) for spec in specs]
    keys = list(dict.fromkeys(key for table in tables for key in table))
    return [key for key in keys if key not in IGNORED_FIELDS
            and len({repr(table.get(key)) for table in tables}) > 1]


def list_runs(folder: str | Path) -> tuple[list[RunRecord], list[str]]:
    """Read every run directory directly inside ``folder``.

    Returns:
        The readable runs, oldest first, and one line per folder that could not be read.

    Raises:
        RunError: ``folder`` is not a directory.
    """
    records, problems = [], []
    for path in find_runs(folder):
        try:
            records.append(read_run_record(path))
        except RunError as error:
            problems.extend(error.problems)
    return sorted(records, key=lambda record: (record.started, record.dir.name)), problems


def runs_table(records: Sequence[RunRecord]) -> tuple[list[str], list[list[str]]]:
    """The table ``neuralab runs`` prints: header and one row of text per run.

    Columns: run, started, status, task, model, each spec field that differs between the
    runs, epochs, dev and test score (error rate for classifiers, RMSE for regression).
    """
    fields = differing_fields([record.spec for record in records])
    header = ["run", "started", "status", "task", "model", *fields, "epochs", "dev", "test"]
    rows = []
    for record in records:
        values = spec_values(record.spec)
        rows.append([record.dir.name, time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started)),
                     record.status, task_of(record), model_of(record.spec),
                     *(show_value(values.get(name)) for name in fields),
                     str(len(record.history)), score(record, "dev"), score(record, "test")])
    return header, rows


def task_of(record: RunRecord) -> str:
    """The run's task from its summary, or ``?`` for a run that has not finished."""
    return str(record.summary.get("task", "?")) if record.summary else "?"


def model_of(spec: ExperimentSpec) -> str:
    """A short description of the network: ``mlp 64-64 relu``."""
    kind = spec.model.kind
    widths = "-".join(map(str, spec.model.hidden)) or "linear"
    activation = spec.model.activation if isinstance(spec.model.activation, str) else "/".join(spec.model.activation)
    return f"{kind} {widths} {activation}" if spec.model.hidden else f"{kind} {widths}"


def score(record: RunRecord, split: str) -> str:
    """A split's final score (the last epoch's for a run that did not finish): error rate or RMSE."""
    source = record.summary or (record.history[-1] if record.history else {})
    regression = (record.summary or {}).get("task") == "regression" or f"{split}_rmse" in source
    value = source.get(f"{split}_rmse" if regression else f"{split}_error")
    if value is None or not math.isfinite(value):
        return "—"
    return f"RMSE {value:.4g}" if regression else f"{value:.1%}"


def show_value(value: Any) -> str:
    """A spec value as the YAML-like text a person would type in ``--set``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(show_value(item) for item in value) + "]"
    return str(value)


def compare_runs(run_dirs: Sequence[str | Path], *, out_dir: str | Path = ".") -> Comparison:
    """Compare two or more runs: overlaid learning curves, spec diff and the doctor's verdicts.

    Writes ``compare.png`` (loss and error per epoch, a colour per run, train solid, dev
    dashed) and ``compare.md`` (the runs' table, the spec fields that differ side by side,
    the doctor's verdicts side by side) into ``out_dir``.

    Args:
        run_dirs: the run directories, at least two; interrupted runs are compared on the
            epochs they finished.
        out_dir: where to write the two files (default the current folder).

    Raises:
        RunError: fewer than two runs, or one of them cannot be read.
    """
    if len(run_dirs) < 2:
        raise RunError(f"compare: give at least two run directories (got {len(run_dirs)})")
    records = [read_run_record(path) for path in run_dirs]
    names = _labels(records)
    comparison = Comparison(records=records, names=names, fields=differing_fields([r.spec for r in records]),
                            verdicts=[doctor_verdicts(record) for record in records])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from neuralab.runs.files import save_figure, write_text_atomic
    from neuralab.viz.plots import plot_compared_curves

    figure = plot_compared_curves({name: record.history for name, record in zip(names, records)},
                                  title=f"{len(records)} runs", error_label=_error_label(records))
    comparison.files = {"figure": out / "compare.png", "report": out / "compare.md"}
    save_figure(figure, comparison.files["figure"])
    write_text_atomic(comparison.files["report"], compare_markdown(comparison))
    return comparison


def doctor_verdicts(record: RunRecord) -> dict[str, str] | None:
    """The doctor's verdicts on one run, as short text (None when the run did not finish).

    Keys: bias/variance, errors (train / dev / test), layers, problems, first advice.
    """
    if record.summary is None:
        return None
    scores = " / ".join(score(record, split) for split in ("train", "dev", "test"))
    if "dev_error" not in record.summary:  # no dev split (a classic playground run): no bias/variance to judge
        unjudged = "— (no dev split to diagnose)"
        return {"bias/variance": unjudged, "train / dev / test": scores, "layers": unjudged, "problems": unjudged,
                "diverged": "yes" if record.summary.get("diverged") else "no", "first advice": unjudged}
    from neuralab.doctor.diagnosis import diagnose

    diagnosis = diagnose(load_run(record.dir), learning_curves=False, write_report=False)
    layers = ", ".join(f"{layer.name} {'/'.join(layer.verdicts)}" for layer in diagnosis.layers)
    advice = diagnosis.advice[0].describe() if diagnosis.advice else "nothing to change"
    return {
        "bias/variance": diagnosis.bias_variance.verdict,
        "train / dev / test": scores,
        "layers": layers or "not recorded",
        "problems": ", ".join(diagnosis.problems) or "none",
        "diverged": f"yes — {diagnosis.divergence_cause}" if diagnosis.diverged else "no",
        "first advice": advice,
    }


def compare_markdown(comparison: Comparison) -> str:
    """``compare.md``: the runs' table, the spec diff and the doctor's verdicts, runs side by side."""
    from neuralab.doctor.report import markdown_table

    header, rows = runs_table(comparison.records)
    lines = [f"# Comparing {len(comparison.records)} runs", "", markdown_table(header, rows), "",
             "![loss and error per epoch: train solid, dev dashed](compare.png)", "", "## Spec differences", ""]
    if comparison.fields:
        lines.append(markdown_table(["field", *comparison.names],
                                    [[f"`{row[0]}`", *row[1:]] for row in comparison.diff_rows()]))
    else:
        lines.append(SAME_SPECS)
    lines += ["", "## The doctor's verdicts", ""]
    verdicts = comparison.verdict_rows()
    lines.append(markdown_table(["", *comparison.names], verdicts) if verdicts else NO_VERDICTS)
    return "\n".join(lines) + "\n"


def _labels(records: Sequence[RunRecord]) -> list[str]:
    """Run directory names, made unique when runs from different folders share one."""
    names = [record.dir.name for record in records]
    return [name if names.count(name) == 1 else f"{name} ({index + 1})" for index, name in enumerate(names)]


def _error_label(records: Sequence[RunRecord]) -> str:
    tasks = {task_of(record) for record in records}
    if tasks == {"regression"}:
        return "loss (regression error)"
    if "regression" not in tasks:
        return "error (misclassification rate)"
    return "error (classifiers: misclassification rate; regression: loss)"
