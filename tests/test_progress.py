"""Progress: plain labelled lines when piped, a bar where a person watches, off in captured output; 1-based epochs."""
import io

from rich.console import Console

import neuralab
from neuralab.progress import EpochProgress, TrialProgress, wanted
from neuralab.training import Callback

SPEC = {"name": "tiny", "data": {"dataset": "xor", "n_samples": 80}, "model": {"hidden": [4]}, "train": {"epochs": 20}}


def piped() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_piped_output_prints_a_labelled_line_every_tenth_of_the_run():
    console = piped()
    neuralab.train(SPEC, out_dir=None, callbacks=[EpochProgress(console, total_epochs=20, label="tiny")],
                   progress=False)
    lines = console.file.getvalue().splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == [f"{e}/20" for e in range(2, 21, 2)]
    assert all("train loss" in line and "dev loss" in line and "dev error" in line for line in epochs)
    assert "model: " in lines[0] and any("hidden1" in line for line in lines)  # the model table comes first


def test_a_terminal_gets_a_live_bar():
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    neuralab.train(SPEC, out_dir=None, callbacks=[EpochProgress(console, total_epochs=20, show_model=False)],
                   progress=False)
    text = console.file.getvalue()
    assert "20/20" in text and "epochs" in text and "train loss" in text and "epoch 20/20  train" not in text


def test_progress_is_shown_where_a_person_watches_and_can_be_forced_or_turned_off():
    assert not wanted(None, piped()) and wanted(True, piped())
    assert wanted(None, Console(file=io.StringIO(), force_terminal=True))
    assert not wanted(False, Console(file=io.StringIO(), force_terminal=True))


def test_the_api_shows_progress_when_asked(capsys):
    neuralab.train(SPEC, out_dir=None, progress=True)
    assert "epoch 20/20  train loss" in capsys.readouterr().out
    neuralab.train(SPEC, out_dir=None)  # captured output: no person watches
    assert capsys.readouterr().out == ""


def test_a_resumed_run_says_where_it_resumes(tmp_path):
    class StopAfterThree(Callback):
        def on_epoch_end(self, state):
            if state.metrics["epoch"] == 3:
                state.interrupted = "SIGINT"

    import pytest

    with pytest.raises(neuralab.TrainingInterrupted):
        neuralab.train(SPEC, out_dir=tmp_path, callbacks=[StopAfterThree()], progress=False)
    [run_dir] = list(tmp_path.iterdir())
    console = piped()
    neuralab.resume(run_dir, callbacks=[EpochProgress(console, total_epochs=20, show_model=False)], progress=False)
    assert "resuming from epoch 4 (3 of 20 done)" in console.file.getvalue()


def test_the_epoch_convention_is_one_based_everywhere():
    seen = []

    class Watch(Callback):
        def on_epoch_start(self, state):
            seen.append(("start", state.epoch))

        def on_epoch_end(self, state):
            seen.append(("end", state.epoch, state.metrics["epoch"]))

    neuralab.train({**SPEC, "train": {"epochs": 2}}, out_dir=None, callbacks=[Watch()], progress=False)
    assert seen == [("start", 1), ("end", 1, 1), ("start", 2), ("end", 2, 2)]


def test_trials_are_announced_then_reported_one_line_each(tmp_path):
    console = piped()
    space = {"params": {"train.learning_rate": [0.01, 0.1]}}
    neuralab.tune_study(SPEC, space, sampler="grid", pruner="none", out_dir=tmp_path, final=False,
                        on_trial=TrialProgress(console, "tune", plan="sampler grid"), progress=False)
    lines = console.file.getvalue().splitlines()
    assert lines[0] == "tune: study tiny: 2 of 2 trials to run — sampler grid"
    assert lines[-1].startswith("2/2 trials  trial 1 complete") and "best dev error" in lines[-1]
