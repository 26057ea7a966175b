"""Attention heat maps per layer and head, and the scaling law's log–log picture."""
from __future__ import annotations

import numpy as np

from neuralab.viz.attention_plots import plot_attention, plot_scaling


def test_one_heat_map_per_layer_and_head_with_token_labels_and_entropy():
    weights = np.tril(np.ones((2, 3, 5, 5)))
    weights /= weights.sum(-1, keepdims=True)
    figure = plot_attention(["T", "o", " ", "b", "\n"], weights, entropy=[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    axes = figure.axes
    assert len(axes) == 6 and axes[5].get_title() == "layer 2 head 3\nH = 0.60 nats"
    assert [label.get_text() for label in axes[0].get_xticklabels()] == ["T", "o", "␣", "b", "⏎"]
    assert np.allclose(axes[0].images[0].get_array(), weights[0, 0])


def test_the_scaling_plot_is_log_log_with_the_fitted_line():
    figure = plot_scaling([1e3, 1e4, 1e5], [3.0, 2.0, 1.5], fit=(6.0, 0.1), labels=["a", "b", "c"])
    axes = figure.axes[0]
    assert axes.get_xscale() == axes.get_yscale() == "log"
    line = axes.get_lines()[0]
    assert np.allclose(line.get_ydata(), 6.0 * line.get_xdata() ** -0.1)
    assert axes.get_legend().get_texts()[0].get_text() == "L = 6 · N^(−0.100)"
