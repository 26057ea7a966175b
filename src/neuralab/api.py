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
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from neuralab.data import DataBundle
from neuralab.errors import RunError, SpecError
from neuralab.progress import EpochProgress, TrialProgress, wanted
from neuralab.runs.evaluation import evaluate_run
from neuralab.runs.predicting import predict_table
from neuralab.runs.run import Run, load_run
from neuralab.runs.trainer import resume_run, train_run
from neuralab.spec import MAX_SEED, ExperimentSpec, load_spec
from neuralab.training import Callback
from neuralab.training.distributed import launch_environment, launched_group
from neuralab.training.rules import periods

log = logging.getLogger(__name__)


def train(spec: ExperimentSpec | str | Path | Mapping[str, Any], out_dir: str | Path | None = "runs", *,
          overrides: Mapping[str, Any] | Sequence[str] | None = None,
          callbacks: Iterable[Callback] = (), bundle: DataBundle | None = None,
          init_from: str | Path | None = None, progress: bool | None = None) -> Run:
    """Train the network a spec describes, score it on dev and test, and write the run.

    Args:
        spec: an ExperimentSpec, a spec file path, or a mapping.
        out_dir: parent folder of the run directory (default ``runs``); None writes nothing.
        overrides: dotted overrides applied to ``spec`` first (see :func:`neuralab.load_spec`).
        callbacks: extra training callbacks (progress, recording...).
        bundle: data already loaded (e.g. from arrays); default: the spec's data set.
        init_from: a trained language-model run directory to fine-tune: its weights and vocabulary
            start this run (same model kind, tokenizer and network; refused with one line otherwise).
        progress: show progress over the epochs — a bar in terminals and notebooks, a line every
            few epochs when output is piped; None (default) shows it where a person watches (a
            terminal or a notebook), True always, False never.

    Returns:
        A :class:`~neuralab.runs.Run` with ``.summary``, ``.history``, ``.model`` and ``.dir``.

    Started by ``torchrun`` with several processes (``neuralab train SPEC --nproc N`` does
    that), the processes train the model together data-parallel — DistributedDataParallel,
    gloo on CPUs, NCCL on GPUs, ``train.batch_size`` the global batch — and process 0
    writes the run; every process returns the Run (``dir`` is None on the others).

    Raises:
        SpecError, DataError: before any training, one line per problem.
        TrainingInterrupted: Ctrl-C or SIGTERM stopped training; the checkpoint is saved and
            :func:`resume` continues the run.
        PeerLost: another process of a data-parallel run died; the run keeps its last checkpoint.
    """
    spec = spec if isinstance(spec, ExperimentSpec) and not overrides else load_spec(spec, overrides=overrides)
    return train_run(spec, out_dir=out_dir, callbacks=[*callbacks, *_epoch_display(progress, spec)], bundle=bundle,
                     init_from=init_from, group=launched_group(spec.train.device))


def resume(run_dir: str | Path, *, callbacks: Iterable[Callback] = (), progress: bool | None = None) -> Run:
    """Continue an interrupted or killed run from its last checkpoint, in the same directory.

    The resumed run ends with the same weights and metrics (all but seconds) as one that
    was never stopped: weights, optimiser, schedule, early-stopping state, RNG states and
    the position inside the epoch all come back from the checkpoint.

    Args:
        run_dir: a run directory written by :func:`train` that has no ``summary.json`` yet.
        callbacks: extra training callbacks (progress, recording...).
        progress: as for :func:`train` (says which epoch the run resumes from).

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
    group = None
    if launch_environment() is not None:  # several processes: the group's device comes from the run's spec
        try:
            group = launched_group(load_spec(Path(run_dir) / "spec.yaml").train.device)
        except SpecError:
            pass  # resume_run reports the broken spec
    display = []
    if wanted(progress, Console()):
        spec = load_spec(Path(run_dir) / "spec.yaml") if (Path(run_dir) / "spec.yaml").is_file() else None
        display = _epoch_display(progress, spec) if spec is not None else []
    return resume_run(run_dir, callbacks=[*callbacks, *display], group=group)


def tune_study(spec: ExperimentSpec | str | Path | Mapping[str, Any], space: Any, *, progress: bool | None = None,
               **options: Any) -> Any:
    """Search hyperparameters with an Optuna study, showing the trials' progress (see :func:`train`'s ``progress``).

    Every other option is :func:`neuralab.tune.search.tune_study`'s: ``sampler``, ``trials``,
    ``pruner``, ``storage``, ``study_name``, ``resume``, ``out_dir``, ``overrides``, ``final``,
    ``callbacks``, ``on_trial``… A new study gets a fresh name unless ``resume=True`` or a
    ``study_name`` says which to continue. Returns its :class:`~neuralab.tune.search.TuneResult`.
    """
    from neuralab.tune.search import tune_study as search

    with _trial_display(progress, "tune") as display:
        return search(spec, space, **_with_display(options, display))


def sweep(spec: ExperimentSpec | str | Path | Mapping[str, Any], param: str, values: Any, *,
          progress: bool | None = None, **options: Any) -> Any:
    """Sensitivity of one hyperparameter: train once per value, showing progress (see :func:`train`).

    Every other option is :func:`neuralab.tune.sweep.sweep`'s (``out_dir``, ``overrides``,
    ``storage``, ``study_name``, ``resume``, ``final``…). Returns a
    :class:`~neuralab.tune.search.TuneResult`.
    """
    from neuralab.tune.sweep import sweep as run_sweep

    with _trial_display(progress, f"sweep {param}") as display:
        return run_sweep(spec, param, values, **_with_display(options, display))


def _epoch_display(progress: bool | None, spec: ExperimentSpec) -> list[Callback]:
    console = Console()
    if not wanted(progress, console):
        return []
    return [EpochProgress(console, total_epochs=periods(spec.train), label=spec.name, show_model=False)]


def _trial_display(progress: bool | None, label: str) -> Any:
    console = Console()
    return TrialProgress(console, label) if wanted(progress, console) else nullcontext()


def _with_display(options: dict[str, Any], display: Any) -> dict[str, Any]:
    if display is None:
        return options
    given = options.get("on_trial")

    def on_trial(report: Any) -> None:
        display(report)
        if given is not None:
            given(report)

    return {**options, "on_trial": on_trial}


def evaluate(run: Run | str | Path, *, data: str | Path | None = None) -> dict[str, Any]:
    """Re-score a saved run on its test split (regenerated from its spec) or on a new labelled file.

    Args:
        run: a Run or a run directory.
        data: a CSV/Parquet file with the run's input columns and its target column; default
            the run's own test split.

    Returns:
        ``test_loss``, ``test_error`` (``data_…`` for a file); for classifiers ``accuracy``,
        ``per_class`` precision/recall/F1/support and ``confusion_matrix`` (also drawn as
        ``confusion_matrix.png`` in the run directory); for regression ``…_rmse`` and ``…_r2``;
        for the test split the values recorded at training as ``recorded_test_error`` /
        ``recorded_test_loss``. See :func:`neuralab.runs.evaluation.evaluate_run`.

    Raises:
        RunError: the data the spec now yields differ from those the run was trained on.
        DataError: the file lacks a column or holds a label the run never saw.
    """
    run = run if isinstance(run, Run) else load_run(run)
    return evaluate_run(run, data=data)


def predict(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
            output: str | Path | None = None) -> dict[str, list]:
    """Predict for new raw inputs: a CSV/Parquet file (or an array) with the run's input columns.

    Args:
        run: a Run or a run directory.
        inputs: a file holding the run's input columns (``run.preprocessor.input_columns``;
            other columns are kept and ignored), or an array ``(n, columns)`` of numbers.
        output: CSV path to write: the input's columns untouched, then ``prediction`` and one
            ``probability_<class>`` per class, replaced in one step: a failed write leaves no partial file.

    Returns:
        ``{column: [...], "prediction": [...], "probability_<class>": [...], ...}`` column lists (for
        millions of rows, :func:`prediction_columns` gives the same as numpy arrays, at a fraction of
        the memory).

    Raises:
        RunError: a bad run directory, or a run that learned sequences.
        DataError: missing columns (naming every column the run needs), bad values, unknown words.
        StorageError: ``output`` is a directory or cannot be written (disk full, permission denied…).
    """
    return {name: values.tolist() for name, values in prediction_columns(run, inputs, output=output).items()}


def prediction_columns(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
                       output: str | Path | None = None) -> dict[str, np.ndarray]:
    """:func:`predict`'s columns as numpy arrays; ``output`` is written block by block (what the CLI uses)."""
    run = run if isinstance(run, Run) else load_run(run)
    return predict_table(run, inputs, output=output)


def sample(run: Run | str | Path, prompt: str = "", *, length: int = 200, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, seed: int = 0, cache: bool = True) -> Iterator[str]:
    """Generate text with a trained language model, one token at a time (an iterator: stream it).

    Args:
        run: a Run or run directory of a model trained on text (``shakespeare`` or ``text``).
        prompt: text to continue; with a character vocabulary every character must be in it
            (default: a line break, or the vocabulary's first token). A transformer reads at most
            its context (``block_size``): a longer prompt is cropped to its end.
        length: tokens to generate (0 – 1,000,000).
        temperature: 0 always picks the most likely token; 1 samples the model's
            distribution; lower is safer, higher wilder.
        top_k: draw only among the k most likely tokens (None: all).
        top_p: draw only among the most likely tokens that together hold this probability
            (nucleus sampling; None: all).
        seed: seed of the draws: the same seed gives the same text.
        cache: a transformer keeps its keys and values between tokens (False re-reads the context).

    Returns:
        An iterator of the generated text, piece by piece (the prompt is not repeated).

    Raises:
        RunError: the run is not a language model.
        DataError: the prompt holds characters outside the vocabulary (named).
        SpecError: length, temperature, top_k or top_p out of range.

    Example:
        >>> import neuralab
        >>> run = neuralab.train({"data": {"dataset": "shakespeare", "max_characters": 2000, "sequence_length": 20},
        ...                       "model": {"kind": "gru", "recurrent": {"hidden_size": 8}},
        ...                       "train": {"epochs": 1}}, out_dir=None)
        >>> len("".join(neuralab.sample(run, "First", length=30, seed=1)))
        30
    """
    from neuralab.data.tokenization import default_prompt, streamed_text
    from neuralab.models.sampling import MAX_LENGTH, sample_tokens

    run, vocabulary = open_language_model(run, "sample")
    problems = _drawing_problems(temperature=temperature, top_k=top_k, top_p=top_p)
    problems += [line for ok, line in (
        (0 <= length <= MAX_LENGTH, f"length: {length!r} — must be from 0 to {MAX_LENGTH:,} tokens"),
        (0 <= seed <= MAX_SEED, f"seed: {seed!r} — must be from 0 to {MAX_SEED}"),
    ) if not ok]
    if problems:
        raise SpecError(problems)
    ids = torch.from_numpy(vocabulary.encode(prompt or default_prompt(vocabulary)))  # DataError: unknown characters
    generator = torch.Generator(device=next(run.model.parameters()).device).manual_seed(seed)
    tokens = sample_tokens(run.model, ids, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                           generator=generator, cache=cache)
    return streamed_text(vocabulary, tokens)


def next_tokens(run: Run | str | Path, prompt: str, *, top: int = 10, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None,
                temperatures: Sequence[float] = (0.5, 1.0, 2.0)) -> dict[str, Any]:
    """The most likely next tokens after ``prompt`` with their probabilities, and how temperature reshapes them.

    Returns:
        See :func:`neuralab.models.language.next_tokens`: ``tokens`` (id, text, probability, ``at``
        each temperature), ``entropy`` and ``uniform`` (ln V) in nats, the ``context`` read.

    Raises:
        RunError: not a language model; DataError: unknown characters; SpecError: a setting out of range.

    Example:
        >>> import neuralab
        >>> run = neuralab.train({"data": {"dataset": "shakespeare", "max_characters": 2000, "sequence_length": 16},
        ...                       "model": {"kind": "transformer", "transformer": {"layers": 1, "embed_dim": 8,
        ...                                                                        "heads": 2}},
        ...                       "train": {"max_steps": 3, "eval_every": 3}}, out_dir=None)
        >>> table = neuralab.next_tokens(run, "To be, or not to", top=3)
        >>> len(table["tokens"]), table["context"][-2:]
        (3, ['t', 'o'])
    """
    from neuralab.models.language import next_tokens as table_of

    run, vocabulary = open_language_model(run, "next")
    problems = _drawing_problems(temperature=temperature, top_k=top_k, top_p=top_p)
    problems += [f"temperatures: {t!r} — each must be above 0 and at most 100" for t in temperatures
                 if not (math.isfinite(t) and 0 < t <= 100)]
    if not 1 <= top <= 1000:
        problems.append(f"top: {top!r} — must be from 1 to 1000 tokens")
    if problems:
        raise SpecError(problems)
    if not prompt:
        raise SpecError("prompt: empty — give the text whose next token to show")
    return table_of(run.model, vocabulary, prompt, top=top, temperature=temperature, top_k=top_k, top_p=top_p,
                    temperatures=tuple(temperatures))


def open_language_model(run: Run | str | Path, command: str) -> tuple[Run, Any]:
    """The run and its vocabulary, or a RunError saying it is not a language model."""
    from neuralab.runs.fine_tuning import VOCABULARIES

    run = run if isinstance(run, Run) else load_run(run)
    if not isinstance(run.preprocessor, VOCABULARIES) or not hasattr(run.model, "generate_step") \
            or not getattr(run.model, "causal", True):
        where = f"{run.dir}" if run.dir else f"the run {run.spec.name!r}"
        raise RunError(f"{command}: {where} is not a language model (model.kind {run.spec.model.kind!r} on "
                       f"{run.spec.data.dataset!r} data); use a run trained on text (data.dataset shakespeare "
                       "or text)")
    return run, run.preprocessor


def _drawing_problems(*, temperature: float, top_k: int | None, top_p: float | None) -> list[str]:
    """One line per sampling setting out of range (temperature, top_k, top_p)."""
    return [line for ok, line in (
        (math.isfinite(temperature) and 0 <= temperature <= 100, f"temperature: {temperature!r} — must be from 0 "
                                                                  "(most likely token) to 100"),
        (top_k is None or top_k >= 1, f"top_k: {top_k!r} — must be at least 1 (or none: every token)"),
        (top_p is None or (math.isfinite(top_p) and 0 < top_p <= 1), f"top_p: {top_p!r} — must be above 0 and at "
                                                                        "most 1 (or none: every token)"),
    ) if not ok]
