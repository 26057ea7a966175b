"""A session trains on neuralab's engine: reproducible resets, live changes, exports the CLI reproduces."""
from __future__ import annotations

import functools
import time

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


def decoded_weights(frame, layer):
    import base64

    import numpy as np

    entry = frame["weights"][layer]
    values = np.frombuffer(base64.b64decode(entry["weights"]), dtype="<f4").reshape(entry["rows"], entry["columns"])
    return values, np.frombuffer(base64.b64decode(entry["biases"]), dtype="<f4")


def test_reset_gives_the_same_initial_weights_and_new_seed_does_not():
    with Session() as session:
        first = weights(session)
        session.advance(epochs=3)
        session.reset()
        assert session.epoch == 0 and all(torch.equal(a, b) for a, b in zip(first, weights(session)))
        session.new_seed()
        assert not all(torch.equal(a, b) for a, b in zip(first, weights(session)))


def test_exported_spec_reproduces_the_loss_with_neuralab_train():
    state = PlaygroundState(optimizer="adam", learning_rate=0.01, dropout=0.1, hidden=[6, 4],
                            activations=["relu", "tanh"], regularization="l2", regularization_rate=0.001)
    with Session(state) as session:
        frame = session.advance(epochs=5)
        exported = session.export()
    spec = neuralab.load_spec(yaml.safe_load(exported["text"]))
    run = neuralab.train(spec, out_dir=None)
    assert exported["epoch"] == 5 and not exported["modified"]
    assert run.history[-1]["train_loss"] == pytest.approx(frame["train_loss"], rel=1e-9)
    assert f"train_loss at epoch 5: {frame['train_loss']!r}" in exported["text"]


def test_an_export_before_training_asks_for_the_schedule_length_not_one_epoch():
    with Session(PlaygroundState(schedule_steps=200)) as session:
        exported = session.export()
    assert exported["epoch"] == 0 and "epochs: 200" in exported["text"] and "before training" in exported["text"]


def test_training_paused_between_batches_for_frames_gives_the_numbers_of_whole_epochs():
    state = PlaygroundState(n_samples=1000, batch_size=2, optimizer="adam", dropout=0.2)
    with Session(state) as paused, Session(state) as whole:
        while paused.epoch < 2:
            paused.train(seconds=0.003)  # an epoch of 250 steps takes longer: it pauses mid-epoch
        paused.train(epochs=1)  # finishes the epoch it paused in
        whole.train(epochs=paused.epoch)
        assert paused.training.step == whole.training.step == 250 * paused.epoch
        assert paused.training.history[-1]["train_loss"] == whole.training.history[-1]["train_loss"]
        assert all(torch.equal(a, b) for a, b in zip(weights(paused), weights(whole)))


def test_a_live_learning_rate_change_keeps_training_and_is_flagged():
    with Session() as session:
        session.advance(epochs=2)
        session.configure({"learning_rate": 0.3})
        frame = session.advance(epochs=1)
    assert frame["epoch"] == 3 and frame["learning_rate"] == pytest.approx(0.3) and frame["modified"]


def test_l2_switched_on_while_training_or_from_a_link_takes_effect():
    with Session() as plain, Session() as live:
        plain.advance(epochs=2)
        live.advance(epochs=2)
        live.configure({"regularization": "l2", "regularization_rate": 0.3})
        plain.advance(epochs=3)
        live.advance(epochs=3)
        shrink = [float(a.abs().sum() - b.abs().sum()) for a, b in zip(weights(plain), weights(live))]
        assert shrink[0] > 0.1  # the first layer's weights decayed
    # classic: TF Playground's penalty ½·r·w², a step of lr·r·w (l2 = r/2); modern: neuralab's l2·Σw²
    for mode, written, decay in (("classic", "l2: 0.05", 0.1), ("modern", "l2: 0.1", 0.2)):
        with Session(PlaygroundState(mode=mode)) as linked:
            linked.configure({"regularization": "l2", "regularization_rate": 0.1}, link=True)
            linked.advance(epochs=4)
            spec = linked.export()["text"]
            assert written in spec and linked.training.optimizer.param_groups[0]["weight_decay"] == pytest.approx(decay)
            run = neuralab.train(neuralab.load_spec(yaml.safe_load(spec)), out_dir=None)
            assert run.history[-1]["train_loss"] == pytest.approx(linked.training.history[-1]["train_loss"], rel=1e-9)


def test_feature_tiles_reload_the_data_and_rebuild_the_network():
    with Session() as session:
        default = session.advance(epochs=3)["train_loss"]
        session.configure({"features": ["x1^2", "x2^2"]})
        assert session.bundle.feature_names == ["x1^2", "x2^2"] and session.model.linear_layers()[0].in_features == 2
        squared = session.advance(epochs=3)["train_loss"]
        assert squared != default
        run = neuralab.train(neuralab.load_spec(yaml.safe_load(session.export()["text"])), out_dir=None)
        assert run.history[-1]["train_loss"] == pytest.approx(squared, rel=1e-9)
        pictures = session.data_message()["feature_pictures"]
        assert pictures["x1^2"] != pictures["x1"] and len(pictures) == 7


def test_a_link_keeps_every_valid_key_and_names_the_refused_one():
    with Session() as session:
        replies = session.configure({"dataset": "xor", "hidden": [3, 3], "noise": 7, "colour": "red"}, link=True)
        assert (session.state.dataset, session.state.hidden, session.state.noise) == ("xor", [3, 3], 0.0)
        errors = [reply["message"] for reply in replies if reply["type"] == "error"]
        assert len(errors) == 1 and "noise=7" in errors[0] and "colour=red" in errors[0]
        with pytest.raises(MessageError, match="noise"):  # a page's change is applied whole or refused
            session.configure({"hidden": [5], "noise": 7})
        assert session.state.hidden == [3, 3]


def test_loose_types_are_refused():
    with Session() as session:
        for changes in ({"learning_rate": True}, {"batch_norm": "yes"}, {"hidden": ["4"]}):
            with pytest.raises(MessageError):
                session.configure(changes)
        assert session.state == PlaygroundState()


def test_after_divergence_a_new_rate_restarts_the_network_and_says_so():
    state = PlaygroundState(problem="regression", dataset="plane", n_samples=1200, learning_rate=10.0)
    with Session(state) as session:
        for _ in range(20):
            if session.advance(epochs=1)["stopped"]:
                break
        assert "diverged" in session.stopped
        replies = session.configure({"learning_rate": 0.01})
        assert not session.stopped and session.epoch == 0
        assert any("restarted" in reply.get("message", "") for reply in replies)
        assert not session.advance(epochs=2)["stopped"]


def test_a_structural_change_rebuilds_and_an_oversized_one_is_refused():
    with Session() as session:
        session.advance(epochs=1)
        replies = session.configure({"hidden": [4, 2, 3]})
        assert session.epoch == 0 and replies[0]["state"]["activations"] == ["tanh"] * 3
        with pytest.raises(MessageError, match="state.hidden"):
            session.configure({"hidden": [64] * 11})
        with pytest.raises(MessageError, match="64 neurons"):
            session.configure({"hidden": [65]})
        assert session.state.hidden == [4, 2, 3]  # the session goes on


def test_frames_hold_pictures_weights_health_and_every_class_output():
    with Session(PlaygroundState(dataset="spiral", n_classes=3, hidden=[5], activations=["relu"])) as session:
        frame = session.advance(epochs=2)
        assert frame["output"]["kind"] == "classes" and len(frame["neurons"]) == 1
        import base64
        assert len(base64.b64decode(frame["neurons"][0])) == 5 * frame["size"] ** 2
        assert len(base64.b64decode(frame["output_units"])) == 3 * frame["size"] ** 2  # one picture per class
        assert [entry["rows"] for entry in frame["weights"]] == [5, 3]
        assert decoded_weights(frame, 1)[1].shape == (3,)  # every class's bias
        assert [row["layer"] for row in frame["health"]] == ["hidden1", "output"]
        assert len(frame["curve"]) == 2 and session.data_message()["classes"] == 3
        session.set_weight(layer=1, row=2, column=4, value=1.25)
        assert decoded_weights(session.frame(), 1)[0][2, 4] == 1.25


def test_health_is_sampled_as_often_as_frames_read_it_and_the_numbers_do_not_change():
    from neuralab.playground.live_health import SAMPLES_PER_SECOND, health_every

    with Session() as session, Session() as plain:
        assert session.recorder.batch_every == health_every(session.steps_per_epoch)  # once per epoch at first
        started = time.perf_counter()
        session.train(seconds=0.3)
        steps_per_second = session.training.step / (time.perf_counter() - started)
        # the default network trains far more than SAMPLES_PER_SECOND epochs a second: sampled less than once per epoch
        assert steps_per_second > 2 * SAMPLES_PER_SECOND * session.steps_per_epoch
        assert session.recorder.batch_every > session.steps_per_epoch
        assert session.recorder.samples and session.frame()["health"]
        session.train(epochs=1)  # finish an epoch the time budget may have paused
        plain.train(epochs=session.epoch)  # the recorder only reads the model: the same weights
        assert all(torch.equal(a, b) for a, b in zip(weights(session), weights(plain)))


def test_editing_a_weight_and_importing_a_spec():
    with Session() as session:
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


def test_a_clicked_point_joins_the_training_split_and_training_goes_on():
    with Session() as session:
        session.advance(epochs=3)
        before = {name: getattr(session.bundle, f"raw_{name}").copy() for name in ("train", "dev", "test")}
        square = session.square
        replies = session.add_point(x=5.9, y=5.9, label=0)  # near the corner: the square must not move
        assert session.state.dataset == "own" and session.epoch == 3 and session.square == square
        assert replies[0]["sizes"] == {"train": 251, "dev": 0, "test": 250}  # classic: train and test, no dev
        assert (session.bundle.raw_train[:250] == before["train"]).all() and (session.bundle.raw_dev == before["dev"]).all()
        assert session.bundle.raw_train[-1].tolist() == pytest.approx([5.9, 5.9])
        session.add_point(x=-1.0, y=0.5, label=1, split="test")
        assert session.bundle.n_test == 251 and session.advance(epochs=1)["epoch"] == 4
        session.add_point(x=0.0, y=0.0, label=2)  # a new class: a third output, a new network
        assert session.head.n_outputs == 3 and session.epoch == 0 and session.bundle.n_train == 252


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
    with Session() as session:
        session.configure({"dataset": "own"})
        session.add_point(x=0.5, y=0.5, label=0)
        session.reset()  # after clicks, a reset trains what `neuralab train` trains
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
    assert not folder.exists()


def test_a_session_that_is_never_closed_leaves_no_folder_behind():
    import gc

    session = Session()
    session.configure({"dataset": "own"})
    folder = session.folder
    assert folder.exists()
    del session
    gc.collect()
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
    return Session()  # one session takes every example, as one tab takes every message (closed when collected)


def test_a_frame_is_drawn_on_the_threads_the_network_trains_on():
    seen = []
    with Session() as session:
        session.model.output.register_forward_hook(lambda *args: seen.append(torch.get_num_threads()))
        previous = torch.get_num_threads()
        torch.set_num_threads(2)  # the server's threads outside training
        try:
            session.frame()
        finally:
            torch.set_num_threads(previous)
        assert seen and set(seen) == {session.experiment.threads} == {1}
