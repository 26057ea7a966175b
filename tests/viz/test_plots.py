"""Plots return matplotlib figures with the curves drawn."""
from __future__ import annotations

from neuralab.viz.plots import plot_curves, plot_learning_rate

HISTORY = [{"epoch": e, "train_loss": 1 / e, "dev_loss": 1.2 / e, "train_error": 0.5 / e, "dev_error": 0.6 / e,
            "learning_rate": 0.1 * 0.5 ** e} for e in range(1, 11)]


def test_curves_have_train_and_dev_lines_and_mark_the_kept_epoch():
    loss_axis, error_axis = plot_curves(HISTORY, best_epoch=4).axes
    assert [line.get_label() for line in loss_axis.get_lines()] == ["train", "dev", "kept (epoch 4)"]
    assert list(error_axis.get_lines()[1].get_ydata()) == [row["dev_error"] for row in HISTORY]
    assert loss_axis.get_yscale() == "log"


def test_learning_rate_plot_uses_log_scale_when_it_spans_decades(tmp_path):
    figure = plot_learning_rate(HISTORY)
    assert figure.axes[0].get_yscale() == "log"
    figure.savefig(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 1000


def test_compared_curves_give_each_run_one_colour_and_skip_empty_histories():
    from neuralab.viz.plots import plot_compared_curves

    shorter = HISTORY[:4]
    loss_axis, error_axis = plot_compared_curves({"a": HISTORY, "b": shorter, "none yet": []}).axes
    lines = error_axis.get_lines()
    assert [line.get_label() for line in lines] == ["a (train)", "a (dev)", "b (train)", "b (dev)"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert [line.get_linestyle() for line in lines[:2]] == ["-", "--"]
    assert list(lines[3].get_ydata()) == [row["dev_error"] for row in shorter]
    assert loss_axis.get_yscale() == "log"
