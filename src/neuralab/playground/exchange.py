"""Specs in and out of the playground: export what the page trains, import a spec file.

The exported spec trains, with ``neuralab train``, the experiment the page shows: the
same data, network, seed and settings, for as many epochs as the page has trained, so it
ends at the same loss. Exported before any training it asks for the playground's
schedule length (``schedule_steps`` epochs) and says so. Changes made while training
(a rate, an edited weight, a clicked point) are noted in the file: ``neuralab train``
replays the final settings from the start.

Example:
    >>> from neuralab.playground.session import Session
    >>> with Session() as session:
    ...     exported = export(session)
    >>> exported["epoch"], "epochs: 100" in exported["text"]
    (0, True)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from neuralab.errors import NeuralabError
from neuralab.playground import own_data
from neuralab.playground.messages import MessageError, problems
from neuralab.playground.state import OWN, PlaygroundState, from_spec
from neuralab.spec import dump_spec, load_spec, parse_yaml

if TYPE_CHECKING:
    from neuralab.playground.session import Session


def export(session: "Session") -> dict[str, Any]:
    """The ``spec`` message: the YAML text that reproduces the session to its current epoch."""
    with session.lock:
        epoch, state = session.epoch, session.state
        epochs = epoch or state.schedule_steps
        spec = session.spec_for(epochs=epochs, own_path=own_data.EXPORT_NAME)
        loss = session.training.history[-1]["train_loss"] if session.training.history else None
        header = [f"# neuralab spec exported from the playground at epoch {epoch}"]
        if loss is not None:
            header.append(f"# train_loss at epoch {epoch}: {loss!r}")
        else:
            header.append(f"# exported before training: train.epochs is the playground's schedule length, {epochs}")
        if session.modified:
            header.append("# note: settings, weights or points were changed during training; "
                          "`neuralab train` replays the final settings from the start")
        text = "\n".join(header) + "\n" + dump_spec(spec)
        message = {"type": "spec", "text": text, "filename": f"playground-epoch{epoch}.yaml",
                   "epoch": epoch, "train_loss": loss, "modified": session.modified}
        if state.dataset == OWN:  # the data file goes beside the spec
            message["data_text"] = own_data.write_csv(session.folder / own_data.EXPORT_NAME, session.own,
                                                      problem=state.problem)
            message["data_filename"] = own_data.EXPORT_NAME
        return message


def state_of_spec_text(text: str) -> PlaygroundState:
    """The playground state of a spec file's text (YAML, or JSON which YAML reads too)."""
    try:
        raw = parse_yaml(text)  # no aliases (alias bombs), no repeated keys
    except yaml.YAMLError as error:
        raise MessageError(f"import: not YAML or JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise MessageError("import: a spec file holds a mapping of fields")
    try:
        return from_spec(load_spec(raw))
    except NeuralabError as error:
        raise MessageError("import: " + "; ".join(error.problems)) from None
    except ValidationError as error:
        raise MessageError(problems(error, prefix="import")) from None
    except ValueError as error:
        raise MessageError(f"import: {error}") from None
