"""The Python API: train a spec, re-score a saved run, predict with it.

Example:
    >>> import neuralab, tempfile
    >>> spec = neuralab.load_spec({"data": {"dataset": "circle", "n_samples": 200}},
    ...                           overrides={"train.epochs": 3, "model.hidden": [8]})
    >>> run = neuralab.train(spec, out_dir=None)
    >>> sorted(k for k in run.summary if k.endswith("_error"))
    ['dev_error', 'test_error', 'train_error']
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.data import DataBundle, load_data, read_inputs
from neuralab.errors import RunError, SpecError
from neuralab.runs.files import write_csv
from neuralab.runs.run import Run, load_run
from neuralab.runs.trainer import resume_run, train_run
from neuralab.spec import MAX_SEED, ExperimentSpec, load_spec
from neuralab.training import Callback
from neuralab.training.evaluate import evaluate_split, scores_of

log = logging.getLogger(__name__)


def train(spec: ExperimentSpec | str | Path | Mapping[str, Any], out_dir: str | Path | None = "runs", *,
          overrides: Mapping[str, Any] | Sequence[str] | None = None,
          callbacks: Iterable[Callback] = (), bundle: DataBundle | None = None) -> Run:
    """Train the network a spec describes, score it on dev and test, and write the run.

    Args:
        spec: an ExperimentSpec, a spec file path, or a mapping.
        out_dir: parent folder of the run directory (default ``runs``); None writes nothing.
        overrides: dotted overrides applied to ``spec`` first (see :func:`neuralab.load_spec`).
        callbacks: extra training callbacks (progress, recording...).
        bundle: data already loaded (e.g. from arrays); default: the spec's data set.

    Returns:
        A :class:`~neuralab.runs.Run` with ``.summary``, ``.history``, ``.model`` and ``.dir``.

    Raises:
        SpecError, DataError: before any training, one line per problem.
        TrainingInterrupted: Ctrl-C or SIGTERM stopped training; the checkpoint is saved and
            :func:`resume` continues the run.
    """
    spec = spec if isinstance(spec, ExperimentSpec) and not overrides else load_spec(spec, overrides=overrides)
    return train_run(spec, out_dir=out_dir, callbacks=callbacks, bundle=bundle)


def resume(run_dir: str | Path, *, callbacks: Iterable[Callback] = ()) -> Run:
    """Continue an interrupted or killed run from its last checkpoint, in the same directory.

    The resumed run ends with the same weights and metrics (all but seconds) as one that
    was never stopped: weights, optimiser, schedule, early-stopping state, RNG states and
    the position inside the epoch all come back from the checkpoint.

    Args:
        run_dir: a run directory written by :func:`train` that has no ``summary.json`` yet.
        callbacks: extra training callbacks (progress, recording...).

    Raises:
        RunError: the run is complete, has no checkpoint, or its spec, data or checkpoint
            changed or do not fit.

    Example:
        >>> import neuralab, tempfile
        >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}},
        ...                      out_dir=tempfile.mkdtemp())
        >>> try:
        ...     neuralab.resume(run.dir)  # a complete run: nothing to resume
        ... except neuralab.RunError as error:
        ...     print("is complete" in str(error))
        True
    """
    return resume_run(run_dir, callbacks=callbacks)


def evaluate(run: Run | str | Path) -> dict[str, float]:
    """Re-score a saved run on its test split, regenerating the data from its spec.

    Returns:
        ``test_loss``, ``test_error`` (+ ``test_rmse``, ``test_r2`` for regression), and the
        values recorded at training time as ``recorded_test_error`` / ``recorded_test_loss``.

    Raises:
        RunError: the data the spec now yields differ from those the run was trained on.
    """
    run = run if isinstance(run, Run) else load_run(run)
    bundle = load_data(run.spec.data, seed=run.spec.seed)
    recorded = run.summary.get("data_fingerprint")
    if recorded and recorded != bundle.fingerprint():
        raise RunError(f"evaluate: the data of {run.spec.data.dataset!r} changed since the run was trained "
                       "(test split fingerprint differs); retrain on the new data")
    scores = evaluate_split(run.model, run.head, torch.from_numpy(bundle.x_test), torch.from_numpy(bundle.y_test),
                            target_scale=bundle.target_scale)
    result = {f"test_{key}": value for key, value in scores.items()}
    for key in ("test_error", "test_loss"):
        if key in run.summary:
            result[f"recorded_{key}"] = run.summary[key]
    return result


def predict(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
            output: str | Path | None = None) -> dict[str, list]:
    """Predict for new raw inputs (a CSV/Parquet path or an array of the run's input columns).

    Args:
        run: a Run or a run directory.
        inputs: file with the run's input columns (see ``preprocessor.input_columns``) or an
            array (n, n_columns) in that order.
        output: CSV path to write (inputs, ``prediction`` and one ``probability_<class>`` per class).

    Returns:
        ``{"prediction": [...], "probability_<class>": [...], ...}`` column lists.
    """
    run = run if isinstance(run, Run) else load_run(run)
    if run.shape.sequence_length is not None:
        raise RunError(f"predict: reads rows of a table, but {run.dir or run.spec.name} learned sequences "
                       f"({run.spec.data.dataset!r}); `neuralab evaluate` scores its test split, and "
                       "`neuralab sample` continues a language model's text")
    columns = run.preprocessor.input_columns
    raw = read_inputs(inputs, columns) if isinstance(inputs, (str, Path)) else np.asarray(inputs, dtype=np.float32)
    scores = scores_of(run.model, torch.from_numpy(run.preprocessor.transform_inputs(raw)))
    table: dict[str, list] = {name: raw[:, i].tolist() for i, name in enumerate(columns)}
    if run.head.is_classifier:
        classes = run.summary.get("classes") or list(range(run.head.n_outputs))
        table["prediction"] = [classes[i] for i in run.head.predict(scores).tolist()]
        probabilities = run.head.probabilities(scores)
        for index, label in enumerate(classes):
            table[f"probability_{label}"] = probabilities[:, index].tolist()
    else:
        values = run.head.predict(scores).numpy()
        table["prediction"] = run.preprocessor.inverse_target(values).tolist()
    if output is not None:
        _write_table(table, Path(output))
    return table


def sample(run: Run | str | Path, prompt: str = "", *, length: int = 200, temperature: float = 1.0,
           top_k: int | None = None, seed: int = 0) -> Iterator[str]:
    """Generate text with a trained language model, one character at a time (an iterator: stream it).

    Args:
        run: a Run or run directory of a model trained on text (``shakespeare`` or ``text``).
        prompt: text to continue; every character must be in the run's vocabulary
            (default: a line break, or the vocabulary's first character).
        length: characters to generate (0 – 1,000,000).
        temperature: 0 always picks the most likely character; 1 samples the model's
            distribution; lower is safer, higher wilder.
        top_k: draw only among the k most likely characters (None: all).
        seed: seed of the draws: the same seed gives the same text.

    Returns:
        An iterator of the generated characters (the prompt is not repeated).

    Raises:
        RunError: the run is not a language model.
        DataError: the prompt holds characters outside the vocabulary (named).
        SpecError: length, temperature or top_k out of range.

    Example:
        >>> import neuralab
        >>> run = neuralab.train({"data": {"dataset": "shakespeare", "max_characters": 2000, "sequence_length": 20},
        ...                       "model": {"kind": "gru", "recurrent": {"hidden_size": 8}},
        ...                       "train": {"epochs": 1}}, out_dir=None)
        >>> len("".join(neuralab.sample(run, "First", length=30, seed=1)))
        30
    """
    from neuralab.data import Vocabulary
    from neuralab.models.sampling import MAX_LENGTH, sample_tokens

    run = run if isinstance(run, Run) else load_run(run)
    if not isinstance(run.preprocessor, Vocabulary) or not hasattr(run.model, "generate_step"):
        where = f"{run.dir}" if run.dir else f"the run {run.spec.name!r}"
        raise RunError(f"sample: {where} is not a language model (model.kind {run.spec.model.kind!r} on "
                       f"{run.spec.data.dataset!r} data); sample a run trained on text (data.dataset shakespeare "
                       "or text)")
    problems = [line for ok, line in (
        (0 <= length <= MAX_LENGTH, f"length: {length!r} — must be from 0 to {MAX_LENGTH:,} characters"),
        (math.isfinite(temperature) and 0 <= temperature <= 100, f"temperature: {temperature!r} — must be from 0 "
                                                                  "(most likely character) to 100"),
        (top_k is None or top_k >= 1, f"top_k: {top_k!r} — must be at least 1 (or none: every character)"),
        (0 <= seed <= MAX_SEED, f"seed: {seed!r} — must be from 0 to {MAX_SEED}"),
    ) if not ok]
    if problems:
        raise SpecError(problems)
    vocabulary = run.preprocessor
    prompt = prompt or ("\n" if "\n" in vocabulary.characters else vocabulary.characters[0])
    ids = torch.from_numpy(vocabulary.encode(prompt))  # DataError naming the unknown characters
    generator = torch.Generator(device=next(run.model.parameters()).device).manual_seed(seed)
    tokens = sample_tokens(run.model, ids, length=length, temperature=temperature, top_k=top_k, generator=generator)
    return (vocabulary.characters[token] for token in tokens)


def _write_table(table: dict[str, list], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, [dict(zip(table, row)) for row in zip(*table.values())], list(table))
