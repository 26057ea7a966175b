"""The learning-rate range test: the curve, the stop on blow-up, the suggestion rules, the files."""
from __future__ import annotations

import math

import pytest

from neuralab.errors import SpecError
from neuralab.tune.lr_find import find_learning_rate, suggest_rate, write_finding


def test_range_test_rises_exponentially_and_stops_when_the_loss_blows_up(tiny_spec):
    spec = tiny_spec.model_copy(update={"train": tiny_spec.train.model_copy(update={"optimizer": "sgd"})})
    finding = find_learning_rate(spec, start=1e-5, end=1e3, steps=80)
    assert finding.rates[0] == pytest.approx(1e-5)
    assert all(b > a for a, b in zip(finding.rates, finding.rates[1:]))
    assert finding.stopped_early and len(finding.rates) < 80
    assert 1e-5 <= finding.suggestion < finding.rates[-1]
    again = find_learning_rate(spec, start=1e-5, end=1e3, steps=80)
    assert again.losses == finding.losses  # seeded


def test_suggestion_rules_on_a_known_curve():
    rates = [10 ** (k / 8) for k in range(-56, 9)]  # 1e-7 … 10
    loss = [1 / (1 + math.exp(3 * (math.log10(r) + 3))) + (5 * r if r > 0.1 else 0) for r in rates]
    steepest = suggest_rate(rates, loss, rule="steepest")
    assert 10 ** -3.3 < steepest < 10 ** -2.7  # the sigmoid's steepest point is at 1e-3
    lowest = rates[loss.index(min(loss))]
    assert suggest_rate(rates, loss, rule="minimum") == pytest.approx(lowest / 10)


def test_files_are_written(tiny_spec, tmp_path):
    finding = find_learning_rate(tiny_spec, steps=20)
    files = write_finding(finding, tmp_path / "lr")
    assert files["plot"].is_file()
    assert files["table"].read_text().splitlines()[0] == "learning_rate,loss,smoothed_loss"


def test_bad_settings_are_reported_together(tiny_spec):
    with pytest.raises(SpecError) as error:
        find_learning_rate(tiny_spec, start=1, end=0.1, steps=3, rule="valley")
    assert len(error.value.problems) == 3
