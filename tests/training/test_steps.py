"""Step-based training through the one engine: periods of eval_every steps, random batches, accumulation,
per-step schedules, a fixed set of dev batches, and interrupt → resume bit for bit."""
from __future__ import annotations

import math
import os
import signal

import pytest
import torch

import neuralab
from neuralab.errors import TrainingInterrupted
from neuralab.training import Callback, rules
from neuralab.training.evaluate import evaluate_split
from neuralab.training.experiment import Experiment

SPEC = {"name": "steps", "seed": 4, "data": {"dataset": "spiral", "n_samples": 200, "noise": 0.1},
        "model": {"hidden": [16], "dropout": 0.1},
        "train": {"max_steps": 25, "eval_every": 10, "batch_size": 16, "learning_rate": 0.02, "optimizer": "adamw",
                  "l2": 0.01, "schedule": {"name": "warmup_cosine", "warmup_steps": 5, "min_lr": 0.002},
                  "eval_batches": 2}, "diagnose": {"health_every": 5}}


def test_periods_of_steps_make_the_metrics_rows():
    run = neuralab.train(SPEC, out_dir=None)
    assert [row["step"] for row in run.history] == [10, 20, 25] and [row["epoch"] for row in run.history] == [1, 2, 3]
    assert run.summary["epochs_run"] == 3 and "completed" in run.summary["stop_reason"]
    assert rules.periods(run.spec.train) == 3


def test_the_rate_follows_the_schedule_step_by_step():
    spec = neuralab.load_spec(SPEC)
    run = neuralab.train(spec, out_dir=None)
    lr0, floor, warm, span = 0.02, 0.002, 5, 25

    def rate(t):  # nanoGPT's get_lr(t)
        if t < warm:
            return lr0 * (t + 1) / (warm + 1)
        return floor + (lr0 - floor) * (1 + math.cos(math.pi * min(t - warm, span - warm) / (span - warm))) / 2
    # a row's learning_rate is the rate of the next step (the schedule moved after each step)
    assert [row["learning_rate"] for row in run.history] == pytest.approx([rate(10), rate(20), rate(25)])


def test_dev_is_scored_on_the_same_fixed_batches_every_time():
    spec = neuralab.load_spec(SPEC)
    experiment = Experiment.from_spec(spec)
    state = experiment.fit()
    rows = rules.evaluation_rows(experiment.bundle.n_dev, spec.train, spec.seed)
    assert len(rows) == 32 and torch.equal(rows, rules.evaluation_rows(experiment.bundle.n_dev, spec.train, spec.seed))
    x, y = experiment.splits["dev"]
    assert state.history[-1]["dev_loss"] == pytest.approx(evaluate_split(experiment.model, experiment.head,
                                                                        x[rows], y[rows])["loss"])
    whole = experiment.score(["dev"])["dev"]["loss"]
    assert whole != pytest.approx(state.history[-1]["dev_loss"])  # the summary scores the whole dev split


def test_accumulated_micro_batches_make_the_same_step_as_one_big_batch():
    base = {"seed": 1, "data": {"dataset": "gauss", "n_samples": 100},
            "model": {"hidden": [8]}, "train": {"epochs": 3, "optimizer": "sgd", "learning_rate": 0.1}}
    big = neuralab.train(base, out_dir=None, overrides={"train.batch_size": 20})
    small = neuralab.train(base, out_dir=None, overrides={"train.batch_size": 5, "train.accumulate": 4})
    for name, tensor in big.model.state_dict().items():
        assert torch.allclose(tensor, small.model.state_dict()[name], atol=1e-6), name
    assert big.history[-1]["train_loss"] == pytest.approx(small.history[-1]["train_loss"], rel=1e-5)


def test_bf16_autocast_trains_and_keeps_float32_weights():
    run = neuralab.train(SPEC, out_dir=None, overrides={"train.autocast": "bf16", "model.dropout": 0.0})
    assert all(p.dtype == torch.float32 for p in run.model.parameters())
    assert math.isfinite(run.summary["dev_loss"]) and run.history[-1]["train_loss"] < run.history[0]["train_loss"] + 1


class StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, state):
        if state.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("accumulate", [1, 3])
def test_interrupted_mid_period_resumes_bit_for_bit(tmp_path, accumulate):
    spec = neuralab.load_spec(SPEC, overrides={"train.accumulate": accumulate, "train.max_steps": 14,
                                               "train.eval_every": 6})
    whole = neuralab.train(spec, out_dir=tmp_path / "whole")
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(spec, out_dir=tmp_path / "cut", callbacks=[StopAt(step=8)])
    resumed = neuralab.resume(caught.value.run_dir)
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in run.history] for run in (resumed, whole)]
    assert strip[0] == strip[1]
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name


def test_a_population_refuses_step_based_training():
    from neuralab.training.population import population_problems

    specs = [neuralab.load_spec(SPEC, overrides={"model.dropout": 0.0, "train.learning_rate": rate})
             for rate in (0.01, 0.02)]
    assert any("max_steps" in problem for problem in population_problems(specs))
