"""Tuning plots: history with best-so-far, sensitivity with train beside dev and divergence marked."""
from __future__ import annotations

from neuralab.viz.tuning import plot_history, plot_importance, plot_lr_find, plot_sensitivity

ROWS = [
    {"number": 0, "state": "COMPLETE", "value": 0.4, "train_error": 0.3, "dev_error": 0.4, "diverged": False,
     "lr": 1e-4, "optimizer": "sgd"},
    {"number": 1, "state": "COMPLETE", "value": 0.1, "train_error": 0.05, "dev_error": 0.1, "diverged": False,
     "lr": 1e-2, "optimizer": "adam"},
    {"number": 2, "state": "PRUNED", "value": 0.6, "train_error": 0.6, "dev_error": 0.6, "diverged": False,
     "lr": 1e-3, "optimizer": "sgd"},
    {"number": 3, "state": "COMPLETE", "value": 0.8, "train_error": 0.8, "dev_error": 0.8, "diverged": True,
     "lr": 1.0, "optimizer": "adam"},
    {"number": 4, "state": "FAIL", "value": None, "train_error": None, "dev_error": None, "diverged": None,
     "lr": 0.1, "optimizer": "sgd"},
]


def labels(axis):
    return axis.get_legend_handles_labels()[1]


def test_history_shows_states_and_the_best_so_far():
    [axis] = plot_history(ROWS, title="t").axes
    assert {"complete", "pruned", "best so far"} <= set(labels(axis))


def test_sensitivity_has_train_beside_dev_and_marks_divergence():
    figure = plot_sensitivity(ROWS, ["lr", "optimizer"])
    lr, optimizer = figure.axes
    assert {"dev", "train", "diverged"} <= set(labels(lr))
    assert lr.get_xscale() == "log"
    assert [tick.get_text() for tick in optimizer.get_xticklabels()] == ["adam", "sgd"]


def test_importance_and_lr_find_plots():
    [axis] = plot_importance({"lr": 0.8, "l2": 0.2}).axes
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["l2", "lr"]
    [axis] = plot_lr_find([1e-4, 1e-3, 1e-2], [1.0, 0.5, 3.0], [1.0, 0.8, 1.5], suggestion=1e-3, rule="steepest").axes
    assert any("suggested" in label for label in labels(axis))
