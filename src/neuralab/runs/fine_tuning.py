"""A language model's vocabulary kept with its run, and fine-tuning a trained run on another text.

A text run writes its vocabulary (characters, or the BPE tokenizer's JSON) to
``tokenizer.json`` as soon as its directory exists, so a resumed run encodes its text with
the very same vocabulary, and ``--init-from RUN`` starts a new run from RUN's weights and
vocabulary: the new text is encoded with RUN's tokens, and the spec's network must be RUN's.
Anything else — another model kind, another tokenizer, characters RUN never saw, another
network size — is refused with one line before training starts.

Example:
    >>> import tempfile
    >>> from neuralab.data import Vocabulary
    >>> folder = tempfile.mkdtemp()
    >>> write_tokenizer(folder, Vocabulary(["a", "b"]))
    >>> read_tokenizer(folder).characters
    ['a', 'b']
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuralab.data import BytePairTokenizer, Vocabulary, preprocessor_from_dict
from neuralab.errors import RunError, SpecError
from neuralab.runs.files import write_json
from neuralab.runs.run import Run, load_run
from neuralab.spec import ExperimentSpec
from neuralab.training.experiment import Experiment

TOKENIZER = "tokenizer.json"
VOCABULARIES = (Vocabulary, BytePairTokenizer)


def write_tokenizer(folder: str | Path, preprocessor: Any) -> None:
    """Write a text run's vocabulary to ``folder/tokenizer.json`` (nothing for other data)."""
    if isinstance(preprocessor, VOCABULARIES):
        write_json(Path(folder) / TOKENIZER, preprocessor.to_dict(), indent=None)


def read_tokenizer(folder: str | Path) -> Vocabulary | BytePairTokenizer | None:
    """The vocabulary saved in ``folder/tokenizer.json``, validated; None when the run has none.

    Raises:
        RunError: the file is not a vocabulary neuralab wrote.
    """
    path = Path(folder) / TOKENIZER
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"run {TOKENIZER}: cannot be read as JSON ({error})") from None
    vocabulary = preprocessor_from_dict(saved)
    if not isinstance(vocabulary, VOCABULARIES):
        raise RunError(f"run {TOKENIZER}: holds no vocabulary")
    return vocabulary


def source_run(run_dir: str | Path, spec: ExperimentSpec) -> Run:
    """The run ``--init-from`` names, checked against the spec that will start from it.

    Raises:
        RunError: not a complete run.
        SpecError: another model kind, not a language model, or another tokenizer.
    """
    source = load_run(run_dir)
    where = f"--init-from: {run_dir}"
    if source.spec.model.kind != spec.model.kind:
        raise SpecError(f"{where} is a {source.spec.model.kind!r} model and this spec trains model.kind "
                        f"{spec.model.kind!r}; fine-tune from a run of the same kind")
    if not isinstance(source.preprocessor, VOCABULARIES):
        raise SpecError(f"{where} learned from {source.spec.data.dataset!r} ({source.summary.get('task')}) data; "
                        "--init-from fine-tunes a language model on another text")
    tokenizer = "bpe" if isinstance(source.preprocessor, BytePairTokenizer) else "char"
    if tokenizer != spec.data.tokenizer:
        raise SpecError(f"{where} reads {tokenizer} tokens ({source.preprocessor.size} of them) but the spec asks for "
                        f"data.tokenizer {spec.data.tokenizer!r}; set data.tokenizer: {tokenizer} (the run's "
                        "vocabulary is kept)")
    return source


def start_from(experiment: Experiment, source: Run) -> None:
    """Put ``source``'s trained weights into the experiment's freshly built network.

    Raises:
        SpecError: the spec's network is not ``source``'s (other layers, width, heads or context).
    """
    theirs = source.model.state_dict()
    ours = experiment.model.state_dict()
    different = sorted({name for name in ours.keys() | theirs.keys()
                        if name not in ours or name not in theirs or ours[name].shape != theirs[name].shape})
    if different:
        raise SpecError(f"--init-from: {source.dir}'s network ({source.summary['n_parameters']:,} parameters) is not "
                        f"the spec's ({experiment.n_parameters:,}): {', '.join(different[:3])}"
                        f"{' …' if len(different) > 3 else ''} differ; use the run's model section "
                        f"({_model_section(source.spec)})")
    experiment.model.load_state_dict(theirs)


def _model_section(spec: ExperimentSpec) -> str:
    name = "transformer" if spec.model.kind == "transformer" else "recurrent" if spec.model.is_recurrent else "hidden"
    value = getattr(spec.model, name)
    return f"model.{name}: {value.model_dump() if hasattr(value, 'model_dump') else value}"
