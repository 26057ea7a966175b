"""neuralab.diagnose: the structured answer, report.json's names, report.md and the pictures."""
from __future__ import annotations

import json

import pytest

import neuralab
from neuralab.doctor.diagnosis import diagnose
from neuralab.doctor.report import report_markdown

SMALL = {"name": "small", "data": {"dataset": "circle", "n_samples": 200},
         "model": {"hidden": [2]}, "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.01},
         "diagnose": {"health_every": 2}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return neuralab.train(SMALL, out_dir=tmp_path_factory.mktemp("runs"))


def test_report_json_holds_the_names_scripts_rely_on(run):
    result = neuralab.diagnose(run.dir, learning_curves=False)
    report = json.loads((run.dir / "report.json").read_text())
    assert report == json.loads(json.dumps(result.to_dict()))
    assert set(report["bias_variance"]) >= {"verdict", "avoidable_bias", "variance", "optimal_error"}
    assert report["bias_variance"]["verdict"] in ("good_fit", "high_bias", "high_variance", "high_bias_high_variance")
    assert [layer["name"] for layer in report["layers"]] == ["hidden1", "output"]
    assert all(set(layer["verdicts"]) <= {"vanishing", "exploding", "dead_units", "saturated", "symmetric", "healthy"}
               for layer in report["layers"])
    assert report["diverged"] is False and isinstance(report["advice"], list)
    assert all({"field", "from", "to", "why", "step"} <= set(item) for item in report["advice"])


def test_an_under_trained_two_unit_net_is_high_bias_with_concrete_advice(run):
    result = diagnose(run, learning_curves=False, write_report=False)
    assert result.bias_variance.verdict == "high_bias"
    first = result.advice[0]
    assert (first.field, first.from_, first.to) == ("model.hidden", [2], [16, 16])


def test_report_markdown_and_pictures(run):
    diagnose(run.dir, learning_curves=False)
    text = (run.dir / "report.md").read_text()
    assert "# Diagnosis of small" in text and "## Advice" in text and "model.hidden [2] → [16, 16]" in text
    for picture in ("curves.png", "gradient_norms.png", "activations.png"):
        assert (run.dir / picture).stat().st_size > 1000 and f"]({picture})" in text


def test_the_optimal_error_moves_the_verdict(run):
    train_error = run.summary["train_error"]
    relaxed = diagnose(run, optimal_error=train_error, learning_curves=False, write_report=False)
    assert relaxed.bias_variance.avoidable_bias == pytest.approx(0.0)
    assert not relaxed.bias_variance.high_bias


def test_learning_curve_goes_into_the_report(tmp_path):
    spec = {**SMALL, "diagnose": {"health_every": 2, "learning_curve_fractions": [0.5, 1.0]}}
    trained = neuralab.train(spec, out_dir=tmp_path)
    result = diagnose(trained.dir)
    assert result.learning_curve.n_train == [60, 120]
    assert (trained.dir / "learning_curve.png").is_file()
    assert "## Learning curve" in (trained.dir / "report.md").read_text()


def test_a_run_without_health_is_still_diagnosed():
    plain = neuralab.train(SMALL, out_dir=None, overrides={"diagnose.health_every": 0})
    result = diagnose(plain, learning_curves=False)
    assert result.layers == [] and result.bias_variance.verdict == "high_bias"
    assert "No gradient health was recorded" in report_markdown(result)


def test_a_diverged_run_names_the_cause_and_advises_the_fix_first():
    wild = neuralab.train(SMALL, out_dir=None, overrides={"model.hidden": [32, 32], "model.init": "normal",
                                                          "model.init_std": 3.0, "train.optimizer": "sgd",
                                                          "train.learning_rate": 5.0})
    result = diagnose(wild, learning_curves=False)
    assert result.diverged and "learning rate too high" in result.divergence_cause
    assert result.problems[0] == "diverged" and result.advice[0].field == "train.learning_rate"
    assert "high_bias" not in {a.problem for a in result.advice}  # fix the divergence first


# --------------------------------------------------------------------------- issue 17: the doctor agrees with the run


def test_a_run_that_early_stopping_ended_is_not_told_to_train_longer():
    spec = {"name": "es", "data": {"dataset": "circle", "n_samples": 200}, "model": {"hidden": [2]},
            "train": {"epochs": 40, "learning_rate": 0.3, "optimizer": "sgd",
                      "early_stopping": {"patience": 1, "min_delta": 0.5}}}
    run = neuralab.train(spec, out_dir=None)
    assert run.summary["epochs_run"] < 40 and "early stopping" in run.summary["stop_reason"]
    result = diagnose(run, learning_curves=False, write_report=False, baselines=False)
    assert result.bias_variance.high_bias and "train.epochs" not in [a.field for a in result.advice]
    plain = diagnose(neuralab.train({**spec, "train": {"epochs": 3}}, out_dir=None), learning_curves=False,
                     write_report=False, baselines=False)
    assert "train.epochs" in [a.field for a in plain.advice]  # a run that used all its epochs may train longer


def test_regression_estimates_its_optimal_error_from_the_baselines_and_says_how():
    """Diabetes was always high_bias_high_variance against optimal error 0 on a standardised MSE."""
    run = neuralab.train({"name": "diabetes", "data": {"dataset": "diabetes"}, "model": {"hidden": [64, 64]},
                          "train": {"epochs": 60, "learning_rate": 0.01}}, out_dir=None)
    result = diagnose(run, learning_curves=False, write_report=False)
    ridge = next(b for b in result.baselines if b.name == "ridge")
    assert result.bias_variance.optimal_error == min(b.dev_error for b in result.baselines) <= ridge.dev_error
    assert result.optimal_source.startswith("estimated") and result.bias_variance.verdict != "high_bias_high_variance"
    assert "%" not in result.bias_variance.explanation  # one unit: the standardised MSE, as a number
    given = diagnose(run, optimal_error=0.0, learning_curves=False, write_report=False, baselines=False)
    assert given.bias_variance.optimal_error == 0.0 and given.optimal_source.startswith("given")


def test_a_classical_baseline_that_does_better_is_named(tmp_path):
    run = neuralab.train({"name": "wine", "data": {"dataset": "wine"}, "model": {"hidden": [2]},
                          "train": {"epochs": 2}}, out_dir=tmp_path)
    result = diagnose(run, learning_curves=False)
    assert [b.name for b in result.baselines_ahead] == ["logistic_regression"]
    assert result.to_dict()["baselines_ahead"] == ["logistic_regression"]
    assert "Classical ML does better here" in (run.dir / "report.md").read_text()


@pytest.mark.parametrize("network, baseline, rows, named", [
    (0.0175, 0.0088, 114, False),  # one point of 114 (breast cancer): chance, not "classical ML does better"
    (0.10, 0.02, 114, True),  # nine points of 114
    (0.025, 0.020, 360, False),  # digits-sized: two points of 360
    (0.20, 0.19, None, True),  # regression's MSE: compared as it is
])
def test_a_baseline_is_ahead_only_by_more_than_chance_over_the_dev_points(network, baseline, rows, named):
    from neuralab.doctor.classical import BaselineResult
    from neuralab.doctor.optimal import baselines_ahead

    result = BaselineResult("logistic_regression", train_error=0.0, dev_error=baseline, test_error=0.0, seconds=0.0)
    assert bool(baselines_ahead([result], dev_error=network, dev_rows=rows)) is named


def test_the_verdict_says_how_many_health_samples_it_rests_on(run):
    result = diagnose(run, learning_curves=False, write_report=False, baselines=False)
    assert result.health_samples == len(run.health["samples"]) and result.health_every == run.health["every"]
    assert f"Layer verdicts from {result.health_samples} health samples" in report_markdown(result)


def test_train_dev_without_learning_curves_is_refused(run):
    with pytest.raises(neuralab.SpecError, match="train_dev_fraction.*drop --no-curves"):
        diagnose(run, learning_curves=False, train_dev_fraction=0.1)


def test_report_numbers_each_step_once(run):
    spec = neuralab.load_spec(SMALL, overrides={"train.l2": 0.01, "model.dropout": 0.1})
    result = diagnose(neuralab.train(spec, out_dir=None), learning_curves=False, write_report=False, baselines=False)
    numbered = [line.split(".")[0] for line in report_markdown(result).splitlines() if line[:1].isdigit()]
    assert numbered == [str(n) for n in range(1, len(numbered) + 1)]  # never `5. … 5. … 5.`
    assert any(line.startswith("   and ") for line in report_markdown(result).splitlines())


def test_the_report_says_losses_leave_out_the_penalties():
    """Issue 11, 7: reported losses leave out L1/L2, as the field reference and README say."""
    spec = neuralab.load_spec(SMALL, overrides={"train.l2": 0.001})
    result = diagnose(neuralab.train(spec, out_dir=None), learning_curves=False, write_report=False, baselines=False)
    assert "train.l2 0.001 penalty" in result.penalty_note and "left out" in report_markdown(result)
    assert diagnose(neuralab.train(SMALL, out_dir=None), learning_curves=False, write_report=False,
                    baselines=False).penalty_note == ""
def test_a_run_without_a_dev_split_is_refused_with_the_reason():
    from neuralab.errors import SpecError

    run = neuralab.train({"data": {"dataset": "circle", "n_samples": 100, "split": [0.5, 0.0, 0.5]},
                          "model": {"hidden": [3]}, "train": {"epochs": 1}}, out_dir=None)
    assert "dev_error" not in run.summary and run.summary["n_dev"] == 0
    with pytest.raises(SpecError, match="bias and variance .* no dev split"):
        diagnose(run, learning_curves=False)
