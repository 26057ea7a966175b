"""Running train metrics: exact sums, error counts, NaN caught at its step, resumable mid-epoch."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.training import running
from neuralab.training.running import RunningTotals

CPU = torch.device("cpu")


def batches(n_steps: int, *, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(n_steps):
        rows = int(torch.randint(1, 9, (1,), generator=generator))
        yield (torch.rand((), generator=generator), torch.randn(rows, 3, generator=generator),
               torch.randint(0, 3, (rows,), generator=generator))


def expected(steps):
    loss = sum(float(l) * len(t) for l, _, t in steps)
    wrong = sum(int((s.argmax(dim=1) != t).sum()) for _, s, t in steps)
    return loss, wrong


def test_sums_the_row_weighted_loss_and_counts_errors_across_folds():
    steps = list(batches(2 * running.FOLD_EVERY + 5))
    totals = RunningTotals(device=CPU, predict=lambda s: s.argmax(dim=1))
    assert all(totals.add(*step) for step in steps)
    assert len(totals._scores) == 5  # folded every FOLD_EVERY steps: memory stays bounded
    loss_sum, wrong, clipped = totals.fold()
    loss, errors = expected(steps)
    assert float(loss_sum) == pytest.approx(loss, rel=1e-12) and int(wrong) == errors and int(clipped) == 0


def test_counts_clipped_steps_and_resumes_from_two_totals():
    totals = RunningTotals(device=CPU, predict=None, totals=(torch.tensor(1.0, dtype=torch.float64),
                                                            torch.tensor(0)))  # a checkpoint from before clipping
    for clipped in (torch.tensor(True), None, torch.tensor(False), torch.tensor(True)):
        totals.add_clipped(clipped)
    assert [float(t) for t in totals.fold()] == [1.0, 0.0, 2.0]


def test_a_fold_mid_way_then_continuing_gives_the_same_bits():
    steps = list(batches(40, seed=1))
    whole = RunningTotals(device=CPU, predict=lambda s: s.argmax(dim=1))
    for step in steps:
        whole.add(*step)
    first = RunningTotals(device=CPU, predict=lambda s: s.argmax(dim=1))
    for step in steps[:13]:
        first.add(*step)
    saved = tuple(t.clone() for t in first.fold())  # what a checkpoint keeps
    second = RunningTotals(device=CPU, predict=lambda s: s.argmax(dim=1), totals=saved)
    for step in steps[13:]:
        second.add(*step)
    assert [t.item() for t in second.fold()] == [t.item() for t in whole.fold()]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_is_reported_at_its_own_step(bad):
    totals = RunningTotals(device=CPU, predict=None)
    scores, targets = torch.zeros(2, 1), torch.zeros(2)
    assert totals.add(torch.tensor(0.3), scores, targets)
    assert not totals.add(torch.tensor(bad), scores, targets)
    assert not math.isfinite(float(totals.fold()[0]))


def test_regression_counts_no_errors_and_keeps_no_scores():
    totals = RunningTotals(device=CPU, predict=None)
    for loss, scores, targets in batches(10):
        totals.add(loss, scores[:, :1], targets.float())
    assert totals._scores == [] and int(totals.fold()[1]) == 0
