"""The automatic doctor: diagnose → apply the advice → retrain → compare, on the issue's two cases."""
from __future__ import annotations

import csv
import json

import neuralab
from neuralab.doctor.rounds import improve

SPIRAL = {"name": "spiral2", "data": {"dataset": "spiral", "n_samples": 400}, "model": {"hidden": [2]},
          "train": {"batch_size": 32, "learning_rate": 0.01, "epochs": 40}, "diagnose": {"health_every": 10}}
NOISY = {"name": "noisy", "data": {"dataset": "circle", "n_samples": 60, "noise": 0.4},
         "model": {"hidden": [256, 256]},
         "train": {"batch_size": "full", "learning_rate": 0.01, "epochs": 200}, "diagnose": {"health_every": 10}}


def test_two_neurons_on_spiral_are_high_bias_and_the_doctor_fixes_it(tmp_path):
    result = improve(neuralab.load_spec(SPIRAL), rounds=3, out_dir=tmp_path)
    first, best = result.rounds[0], result.rounds[result.best_round]
    assert first.verdict == "high_bias" and first.change == "as given"
    assert result.rounds[1].change == "model.hidden [2] → [16, 16]"
    assert best.dev_error < first.dev_error
    assert result.best_spec.model.hidden != [2] and result.best_spec.name == "spiral2"
    folder = result.folder
    table = list(csv.DictReader((folder / "doctor.csv").open()))
    assert [row["number"] for row in table] == [str(r.number) for r in result.rounds]
    assert json.loads((folder / "doctor.json").read_text())["best_round"] == result.best_round
    assert "| round | change |" in (folder / "doctor.md").read_text()
    assert neuralab.load_spec(folder / "best_spec.yaml") == result.best_spec
    assert all((folder / f"{r.run_dir.split('/')[-1]}" / "report.json").is_file() for r in result.rounds)


def test_a_wide_net_on_sixty_noisy_samples_is_high_variance_and_the_doctor_improves_it():
    seen = []
    result = improve(neuralab.load_spec(NOISY), rounds=2, out_dir=None, on_round=seen.append)
    first = result.rounds[0]
    assert first.verdict == "high_variance" and first.train_error == 0.0
    assert min(r.dev_error for r in result.rounds[1:]) < first.dev_error
    assert seen == result.rounds and result.folder is None


def test_stops_when_there_is_nothing_left_to_fix():
    easy = {"data": {"dataset": "gauss", "n_samples": 200}, "model": {"hidden": [8]},
            "train": {"epochs": 10, "batch_size": 16, "learning_rate": 0.02}}
    result = improve(neuralab.load_spec(easy), rounds=3, out_dir=None)
    assert len(result.rounds) == 1 and result.rounds[0].verdict == "good_fit"
    assert result.stop_reason.startswith("nothing left to fix")
