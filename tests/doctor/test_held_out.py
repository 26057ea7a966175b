"""Rounds that change the data are compared on fresh points neither network trained on."""
from pathlib import Path

import neuralab
from neuralab.doctor.held_out import compare_on_fresh_points, same_rows
from neuralab.doctor.rounds import improve

BASE = {"name": "more", "data": {"dataset": "xor", "n_samples": 60, "noise": 0.2}, "model": {"hidden": [8]},
        "train": {"epochs": 5}}


def test_fresh_points_leave_out_every_training_row_of_both_runs():
    small = neuralab.train(BASE, out_dir=None)
    large = neuralab.train(BASE, out_dir=None, overrides={"data.n_samples": 120})
    assert not same_rows(large, small) and same_rows(small, neuralab.train(BASE, out_dir=None))
    comparison = compare_on_fresh_points(large, small)
    assert comparison.rows == 500  # xor draws the smaller set's points again; fresh draws are new points
    assert 0 <= comparison.candidate <= 1 and 0 <= comparison.best <= 1
    assert compare_on_fresh_points(large, small) == comparison  # seeded


def test_a_file_data_set_has_no_fresh_points(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 5},{i % 2}\n" for i in range(40)))
    run = neuralab.train({"data": {"dataset": "csv", "path": str(path)}, "train": {"epochs": 1}}, out_dir=None)
    assert compare_on_fresh_points(run, run) is None


def test_the_doctor_compares_a_data_change_on_fresh_points():
    """Issue 17: n_samples 120 → 240 was reverted because the new, different dev split scored worse."""
    spec = neuralab.load_spec(Path(__file__).resolve().parents[2] / "examples" / "overfit.yaml", overrides={"train.epochs": 30, "model.hidden": [64, 64]})
    result = improve(spec, rounds=1, out_dir=None)
    [first] = [r for r in result.rounds if r.number == 1]
    assert first.change.startswith("data.n_samples 60 → 120")
    assert first.compared.startswith("on ") and "fresh points" in first.compared
