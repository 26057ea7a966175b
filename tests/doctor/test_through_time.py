"""The doctor through time: verdicts from recorded probes, the report's `sequence`, advice that switches the cell."""
from __future__ import annotations

import json
import math

import pytest

import neuralab
from neuralab.doctor.advice import advise, apply_advice
from neuralab.doctor.through_time import diagnose_sequence, judge_ratio
from neuralab.models import ModelShape
from neuralab.runs.run import Run
from neuralab.spec import load_spec
from neuralab.training.losses import Head

REGRESSION = Head(task="regression", output_activation="linear", loss="mse", n_outputs=1)
TEXT = Head(task="multiclass", output_activation="softmax", loss="cross_entropy", n_outputs=65)


def probe(step, first, last, steps=10):
    """A recorded probe whose gradient goes geometrically from ``first`` (step 1) to ``last`` (step T)."""
    return {"step": step, "epoch": 1, "norms": [[first * (last / first) ** (t / (steps - 1)) for t in range(steps)]]}


def fake_run(*, kind="rnn", dev_loss=0.165, baseline=1 / 6, head=REGRESSION, clip_rates=(0.0, 0.0)):
    spec = load_spec({"data": {"dataset": "adding", "sequence_length": 10}, "model": {"kind": kind}})
    summary = {"baseline_loss": baseline, "baseline_rule": "predict 1", "dev_loss": dev_loss, "sequence_length": 10}
    history = [{"epoch": i + 1, "clip_rate": rate} for i, rate in enumerate(clip_rates)]
    return Run(spec=spec, summary=summary, history=history, model=None, head=head, preprocessor=None,
               shape=ModelShape(n_inputs=2, n_outputs=1))


def health(*probes, first_loss=0.5):
    return {"samples": [{"loss": first_loss}], "through_time": list(probes)}


def test_a_vanishing_gradient_and_a_loss_at_the_baseline():
    diagnosis = diagnose_sequence(fake_run(), health(probe(1, 1e-3, 1.0), probe(101, 1e-9, 1.0),
                                                     probe(201, 1e-10, 1.0)))
    assert diagnosis.verdicts == ["vanishing_through_time", "stuck_at_baseline"]
    assert diagnosis.gradient_ratio == pytest.approx(5.5e-10, rel=1e-3) and diagnosis.stuck_at_baseline  # later half's median
    assert diagnosis.gradient_ratio_start == pytest.approx(1e-3, rel=1e-3)
    assert "tanh RNN" in diagnosis.findings[0].cause and "LSTM" in diagnosis.findings[0].cure


def test_a_healthy_lstm_and_the_other_verdicts():
    healthy = diagnose_sequence(fake_run(kind="lstm", dev_loss=0.003), health(probe(1, 1e-3, 1), probe(9, 0.1, 1)))
    assert healthy.verdict == "healthy" and not healthy.stuck_at_baseline
    exploding = diagnose_sequence(fake_run(dev_loss=0.01, clip_rates=(0.9, 0.8, 0.9, 0.95)),
                                  health(probe(1, 1.0, 1.0), probe(9, 1e4, 1.0)))
    assert exploding.verdicts == ["exploding_through_time", "high_clip_rate"]
    assert exploding.clip_rate == pytest.approx(0.925)
    off = diagnose_sequence(fake_run(head=TEXT, dev_loss=2.0, baseline=3.3), health(probe(1, 0.5, 1), first_loss=9.0))
    assert off.verdicts == ["initial_loss_off"] and off.expected_initial_loss == pytest.approx(math.log(65))


def test_tabular_runs_have_no_sequence_diagnosis():
    run = fake_run()
    run.summary.pop("baseline_loss")
    assert diagnose_sequence(run, None) is None
    assert judge_ratio(None) is None and judge_ratio(float("inf")) == "exploding_through_time"


def test_the_textbook_cures_as_spec_changes():
    rnn = load_spec({"data": {"dataset": "adding"}, "model": {"kind": "rnn"}})
    first = advise("vanishing_through_time", rnn)[0]
    assert (first.field, first.from_, first.to) == ("model.kind", "rnn", "lstm")
    assert apply_advice(rnn, [first]).model.kind == "lstm"
    lstm = load_spec(rnn, overrides={"model.kind": "lstm", "model.recurrent.forget_bias": 0.0})
    assert [(a.field, a.to) for a in advise("stuck_at_baseline", lstm)][0] == ("model.recurrent.forget_bias", 1.0)
    clip = {a.field: a.to for a in advise("exploding_through_time", load_spec(rnn, overrides={"train.grad_clip": None}))}
    assert clip["train.grad_clip"] == 1.0 and clip["train.learning_rate"] == pytest.approx(0.000333)
    unapplied = [a for a in advise("vanishing_through_time", rnn) if not a.applicable]
    assert any("sequence_length" in a.why for a in unapplied)  # shown, never applied: it changes the task


def test_a_diagnosed_rnn_run_carries_sequence_in_its_json(tmp_path):
    spec = {"name": "tiny-rnn", "data": {"dataset": "adding", "n_samples": 200, "sequence_length": 40},
            "model": {"kind": "rnn", "recurrent": {"hidden_size": 8, "init": "uniform"}},
            "train": {"epochs": 1, "batch_size": 40}, "diagnose": {"health_every": 1}}
    run = neuralab.train(spec, out_dir=tmp_path)
    report = json.loads((neuralab.diagnose(run.dir).report_dir / "report.json").read_text())
    sequence = report["sequence"]
    assert {"gradient_ratio", "verdict", "baseline_loss", "stuck_at_baseline"} <= set(sequence)
    assert sequence["verdict"] == "vanishing_through_time" and sequence["gradient_ratio"] < 1e-4
    assert sequence["baseline_loss"] == pytest.approx(1 / 6) and sequence["stuck_at_baseline"]
    assert report["advice"][0]["field"] == "model.kind" and report["advice"][0]["to"] == "lstm"
    assert (run.dir / "gradient_through_time.png").is_file() and "## Through time" in (run.dir / "report.md").read_text()
