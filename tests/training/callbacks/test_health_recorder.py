"""The health recorder: what it samples, that it changes nothing, and the files it leaves."""
from __future__ import annotations

import json

import pytest

import neuralab
from neuralab.errors import RunError
from neuralab.training.callbacks.health_recorder import HealthRecorder
from neuralab.runs.records import read_health


def spec_with(**overrides):
    base = {"name": "health", "data": {"dataset": "xor", "n_samples": 120},
            "model": {"hidden": [8, 6]}, "train": {"epochs": 4, "batch_size": 16, "learning_rate": 0.02},
            "diagnose": {"health_every": 3}}
    return neuralab.load_spec(base, overrides=overrides)


def test_samples_every_k_steps_per_layer():
    run = neuralab.train(spec_with(**{"train.epochs": 12}), out_dir=None)  # 60 steps: 20 samples at every 3
    health = run.health
    assert [layer["name"] for layer in health["layers"]] == ["hidden1", "hidden2", "output"]
    steps = [sample["step"] for sample in health["samples"]]
    assert steps[0] == 1 and all(b - a == 3 for a, b in zip(steps, steps[1:]))
    sample = health["samples"][0]
    assert len(sample["grad_norm"]) == 3 and all(g > 0 for g in sample["grad_norm"])
    assert all(0 < r < 1 for r in sample["update_ratio"])
    assert sample["dead_fraction"][2] is None and 0 <= sample["dead_fraction"][0] <= 1  # ReLU layers only
    assert sample["saturated_fraction"] == [None, None, None]  # no sigmoid/tanh here
    assert health["final"]["symmetric_fraction"] == [0.0, 0.0, None]
    assert len(health["histograms"]["last"]["layers"][0]["counts"]) == 30
    json.dumps(health, allow_nan=False)  # plain, standard JSON


def test_a_short_run_is_sampled_more_often_than_health_every():
    """Issue 17: 60 rows for 50 epochs is 50 steps; every 100 steps would leave one sample to judge on."""
    spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]},
                               "train": {"epochs": 50}})
    run = neuralab.train(spec, out_dir=None)
    assert spec.diagnose.health_every == 100 and run.health["every"] == 2
    assert len(run.health["samples"]) == 25


def test_a_recurrent_run_probes_the_gradient_through_time_a_handful_of_times_not_at_every_sample():
    from neuralab.training import rules

    spec = neuralab.load_spec({"data": {"dataset": "adding", "n_samples": 400, "sequence_length": 12},
                               "model": {"kind": "rnn", "recurrent": {"hidden_size": 8}},
                               "train": {"epochs": 6, "batch_size": 16}})
    run = neuralab.train(spec, out_dir=None)
    health = run.health
    samples = [sample["step"] for sample in health["samples"]]
    probes = [probe["step"] for probe in health["through_time"]]
    every = health["every"]
    assert len(samples) >= rules.MIN_HEALTH_SAMPLES and probes[0] == samples[0] == 1  # the first step: both
    assert set(probes) <= set(samples) and len(probes) < len(samples)
    interval = probes[1] - probes[0]
    assert interval % every == 0 and interval > every and all(b - a == interval for a, b in zip(probes, probes[1:]))
    assert rules.THROUGH_TIME_PROBES <= len(probes) < 2 * rules.THROUGH_TIME_PROBES + 1
    assert all(len(probe["norms"][0]) == 12 for probe in health["through_time"])  # one norm per time step


def test_recording_does_not_change_training():
    with_recording = neuralab.train(spec_with(**{"model.dropout": 0.2}), out_dir=None)
    without = neuralab.train(spec_with(**{"model.dropout": 0.2, "diagnose.health_every": 0}), out_dir=None)
    assert with_recording.history == [{**row, "seconds": with_recording.history[i]["seconds"]}
                                      for i, row in enumerate(without.history)]
    assert without.health is None


def test_zero_init_is_recorded_as_symmetric_and_dead():
    health = neuralab.train(spec_with(**{"model.init": "zeros"}), out_dir=None).health
    assert health["final"]["symmetric_fraction"][:2] == [1.0, 1.0]
    assert health["samples"][-1]["dead_fraction"][:2] == [1.0, 1.0]


def test_saturation_is_measured_for_sigmoid():
    spec = spec_with(**{"model.activation": "sigmoid", "model.init": "normal", "model.init_std": 10.0})
    sample = neuralab.train(spec, out_dir=None).health["samples"][0]
    assert sample["saturated_fraction"][0] > 0.5 and sample["dead_fraction"][0] is None


def test_long_runs_are_thinned_to_a_bounded_record():
    recorder = HealthRecorder(every=1, max_samples=10)
    neuralab.train(spec_with(**{"diagnose.health_every": 0}), out_dir=None, callbacks=[recorder])
    records = recorder.records()
    assert len(records["samples"]) <= 10 and records["every"] > 1
    assert all((s["step"] - 1) % records["every"] == 0 for s in records["samples"])


def test_run_directory_holds_health_files(tmp_path):
    run = neuralab.train(spec_with(), out_dir=tmp_path)
    assert (run.dir / "health.csv").read_text().splitlines()[0].startswith("step,epoch,layer,grad_norm")
    assert read_health(run.dir) == json.loads(json.dumps(run.health))
    (run.dir / "health.json").write_text("{not json")
    with pytest.raises(RunError, match="health.json"):
        read_health(run.dir)


def test_no_file_means_no_record(tmp_path):
    assert read_health(tmp_path) is None
    with pytest.raises(ValueError):
        HealthRecorder(every=0)
