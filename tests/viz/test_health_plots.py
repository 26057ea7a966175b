"""Health pictures: gradient heat map, activation histograms and learning curves as figures."""
from __future__ import annotations

import numpy as np

from neuralab.viz.health_plots import plot_activation_histograms, plot_gradient_heatmap, plot_learning_curve


def test_heatmap_is_layers_by_steps_in_log10_with_gaps_for_non_finite():
    samples = [{"step": 1, "grad_norm": [1e-6, 1.0]}, {"step": 11, "grad_norm": [None, 10.0]}]
    figure = plot_gradient_heatmap(samples, ["hidden1", "output"])
    image = figure.axes[0].images[0].get_array()
    assert image.shape == (2, 2)
    values = np.ma.filled(np.ma.asarray(image, dtype=float), np.nan)
    assert values[0, 0] == -6 and values[1, 1] == 1 and np.isnan(values[0, 1])
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["hidden1", "output"]


def test_histograms_one_panel_per_hidden_layer_start_and_end():
    layer = {"range": [0.0, 1.0], "counts": [1, 2, 3]}
    histograms = {"first": {"step": 1, "layers": [layer, layer, None]},
                  "last": {"step": 51, "layers": [layer, layer, None]}}
    figure = plot_activation_histograms(histograms, ["hidden1", "hidden2", "output"],
                                        activations=["sigmoid", "sigmoid", None])
    visible = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title() for axis in visible] == ["hidden1 sigmoid", "hidden2 sigmoid"]
    assert len(visible[0].patches) == 2  # start and end


def test_histograms_without_records_give_an_empty_figure():
    figure = plot_activation_histograms(None, ["output"])
    assert not any(axis.get_visible() for axis in figure.axes)


def test_learning_curve_marks_the_optimal_error_and_train_dev():
    figure = plot_learning_curve([10, 20, 40], [0.0, 0.05, 0.1], [0.4, 0.3, 0.2], optimal_error=0.05,
                                 train_dev_error=0.15)
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == ["train", "dev", "optimal error 5.0%", "train-dev"]


def test_a_single_sample_draws_without_a_warning():
    """Issue 17: one sample gave identical x limits and a matplotlib UserWarning in `diagnose`."""
    import io
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plot_gradient_heatmap([{"step": 1, "grad_norm": [0.1, 1.0]}], ["hidden1", "output"])
        figure.savefig(io.BytesIO(), format="png")
    assert figure.axes[0].get_xlim() == (0.5, 1.5)
