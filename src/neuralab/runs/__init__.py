"""The run directory: the only package that writes one (and the readers of what it wrote).

* :mod:`~neuralab.runs.files` — atomic text/bytes/JSON/CSV/figure writes, new folders;
* :mod:`~neuralab.runs.run` — :class:`Run` and :func:`load_run` (every file validated);
* :mod:`~neuralab.runs.layout` — :func:`start_run`, :func:`finish_run`, :func:`write_run`, the summary;
* :mod:`~neuralab.runs.keeping` — checkpoints and ``metrics.csv`` kept current while training;
* :mod:`~neuralab.runs.checkpoint` — a training state as safetensors + JSON, never a pickle;
* :mod:`~neuralab.runs.records` — the doctor's health record on disk;
* :mod:`~neuralab.runs.locking` — one process at a time trains in a run directory.

Example:
    >>> import neuralab, tempfile
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 100}, "train": {"epochs": 2}},
    ...                      out_dir=tempfile.mkdtemp())
    >>> load_run(run.dir).summary["epochs_run"]
    2
"""
from neuralab.runs.run import Run, load_run

__all__ = ["Run", "load_run", "finish_run", "start_run", "write_run"]


def __getattr__(name: str):
    if name in ("finish_run", "start_run", "write_run", "summarize"):  # writers pull in training and plots
        from neuralab.runs import layout

        return getattr(layout, name)
    raise AttributeError(f"module 'neuralab.runs' has no attribute {name!r}")
