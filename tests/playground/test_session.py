"""A session trains on neuralab's engine: reproducible resets, live changes, exports the CLI reproduces."""
from __future__ import annotations

import functools

import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import neuralab
from neuralab.playground.messages import MessageError
from neuralab.playground.session import Session
from neuralab.playground.state import PlaygroundState


def weights(session):
    return [p.detach().clone() for p in session.model.parameters()]


def test_reset_gives_the_same_initial_weights_and_new_seed_does_not():
    session = Session()
    first = weights(session)
    session.advance(epochs=3)
    session.reset()
    assert session.epoch == 0 and all(torch.equal(a, b) for a, b in zip(first, weights(session)))
    session.new_seed()
    assert not all(torch.equal(a, b) for a, b in zip(first, weights(session)))


def test_exported_spec_reproduces_the_loss_with_neuralab_train():
    session = Session(PlaygroundState(optimizer="adam", learning_rate=0.01, dropout=0.1, hidden=[6, 4],
                                      activations=["relu", "tanh"], regularization="l2", regularization_rate=0.001))
    frame = session.advance(epochs=5)
    exported = session.export()
    spec = neuralab.load_spec(yaml.safe_load(exported["text"]))
    run = neuralab.train(spec, out_dir=None)
    assert exported["epoch"] == 5 and not exported["modified"]
    assert run.history[-1]["train_loss"] == pytest.approx(frame["train_loss"], rel=1e-9)
    assert f"train_loss at epoch 5: {frame['train_loss']!r}" in exported["text"]


def test_a_live_learning_rate_change_keeps_training_and_is_flagged():
    session = Session()
    session.advance(epochs=2)
    session.configure({"learning_rate": 0.3})
    frame = session.advance(epochs=1)
    assert frame["epoch"] == 3 and frame["learning_rate"] == pytest.approx(0.3) and frame["modified"]


def test_a_structural_change_rebuilds_and_an_oversized_one_is_refused():
    session = Session()
    session.advance(epochs=1)
    replies = session.configure({"hidden": [4, 2, 3]})
    assert session.epoch == 0 and replies[0]["state"]["activations"] == ["tanh"] * 3
    with pytest.raises(MessageError, match="state.hidden"):
        session.configure({"hidden": [64] * 11})
    with pytest.raises(MessageError, match="64 neurons"):
        session.configure({"hidden": [65]})
    assert session.state.hidden == [4, 2, 3]  # the session goes on


def test_frames_hold_pictures_weights_and_health():
    session = Session(PlaygroundState(dataset="spiral", n_classes=3, hidden=[5], activations=["relu"]))
    frame = session.advance(epochs=2)
    assert frame["output"]["kind"] == "classes" and len(frame["neurons"]) == 1 and len(frame["neurons"][0]) == 5
    assert [len(layer["weights"]) for layer in frame["weights"]] == [5, 3]
    assert [row["layer"] for row in frame["health"]] == ["hidden1", "output"]
    assert len(frame["curve"]) == 2 and session.data_message()["classes"] == 3


def test_editing_a_weight_and_importing_a_spec():
    session = Session()
    session.set_weight(layer=0, row=1, column=0, value=2.5)
    assert float(session.model.linear_layers()[0].weight[1, 0].detach()) == 2.5
    with pytest.raises(MessageError, match="no row 9"):
        session.set_weight(layer=0, row=9, column=0, value=1.0)
    session.import_spec("data: {dataset: xor, noise: 0.1}\nmodel: {hidden: [3]}\ntrain: {optimizer: rmsprop}\n")
    assert (session.state.dataset, session.state.hidden, session.state.optimizer) == ("xor", [3], "rmsprop")
    with pytest.raises(MessageError, match="digits"):
        session.import_spec("data: {dataset: digits}")
    with pytest.raises(MessageError, match="optimizer"):
        session.import_spec("train: {optimizer: adm}")


def test_an_imported_alias_bomb_is_refused_unexpanded():
    """Issue 18: a 379-byte spec imported in the playground cost 53 s of CPU (×9 per level)."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
    session = Session()
    with pytest.raises(MessageError, match=r"aliases \(\*a\) are not allowed"):
        session.import_spec("\n".join(levels) + "\nmodel: {hidden: *i}\n")
    with pytest.raises(MessageError, match="given twice"):
        session.import_spec("model: {hidden: [3]}\nmodel: {hidden: [4]}\n")
    assert session.state.hidden != [4]


def test_own_data_train_like_the_cli_from_the_exported_files(tmp_path):
    session = Session()
    session.configure({"dataset": "own"})
    session.add_point(x=0.5, y=0.5, label=0)
    frame = session.advance(epochs=3)
    exported = session.export()
    (tmp_path / exported["filename"]).write_text(exported["text"])
    (tmp_path / exported["data_filename"]).write_text(exported["data_text"])
    run = neuralab.train(tmp_path / exported["filename"], out_dir=None)
    assert run.history[-1]["train_loss"] == pytest.approx(frame["train_loss"], rel=1e-9)
    with pytest.raises(MessageError, match="whole number"):
        session.add_point(x=0, y=0, label=1.5)
    session.upload_csv("0,0,0.1\n1,1,0.7\n" + "\n".join(f"{i},{-i},{i / 40}" for i in range(2, 40)))
    assert (session.state.problem, session.bundle.task) == ("regression", "regression")
    with pytest.raises(MessageError, match="row 2"):
        session.upload_csv("x1,x2,label\n1,2,3\n1,2\n")
    folder = session.folder
    session.close()
    assert not folder.exists()


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
                     lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=3),
                     max_leaves=8)


@settings(max_examples=40, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(PlaygroundState.model_fields) + ["bogus"]), _JSON, max_size=4))
def test_any_configure_message_is_applied_or_refused_cleanly(changes):
    session = _fuzzed_session()
    try:
        session.configure(changes)
    except MessageError:
        pass
    PlaygroundState.model_validate(session.state.model_dump())  # the session's state is always valid


@functools.cache
def _fuzzed_session() -> Session:
    return Session()  # one session takes every example, as one tab takes every message
