"""What a frame draws, against an independent computation with numpy."""
from __future__ import annotations

import base64

import numpy as np
import torch

from neuralab.playground import pictures
from neuralab.playground.pictures import NEURON_SIZE, OUTPUT_SIZE


def reference_bytes(values: np.ndarray) -> bytes:
    """round((v + 1) · 127.5) of the clipped values, half to even, NaN as 0, ±inf as ±1."""
    clean = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.rint((np.clip(clean, -1, 1) + 1) * 127.5).astype(np.uint8).tobytes()


def test_encode_quantises_every_value_as_the_formula_says():
    values = np.concatenate([np.random.default_rng(0).uniform(-1.3, 1.3, 5000),
                             [np.nan, np.inf, -np.inf, -1.0, 1.0, 0.0], np.arange(256) / 127.5 - 1])
    assert base64.b64decode(pictures.encode(values)) == reference_bytes(values)
    assert pictures.encode(torch.from_numpy(values)) == pictures.encode(values)


def test_thumbnails_are_each_units_grid_averaged_over_two_by_two_squares_and_scaled():
    generator = torch.Generator().manual_seed(0)
    layers = [torch.randn(OUTPUT_SIZE ** 2, 3, generator=generator), 0.01 * torch.randn(OUTPUT_SIZE ** 2, 2, generator=generator)]
    strings = pictures._thumbnails(layers, scale=True)
    factor = OUTPUT_SIZE // NEURON_SIZE
    for layer, string in zip(layers, strings):
        grids = layer.numpy().astype(np.float64).T.reshape(-1, NEURON_SIZE, factor, NEURON_SIZE, factor)
        pooled = grids.mean(axis=(2, 4)).reshape(layer.shape[1], -1)  # (units, NEURON_SIZE²), rows from the top
        pooled /= np.abs(pooled).max(axis=1, keepdims=True)  # each unit by its largest |value|
        drawn = np.frombuffer(base64.b64decode(string), dtype=np.uint8).astype(int)
        assert drawn.shape == (layer.shape[1] * NEURON_SIZE ** 2,)
        # float32 pooling against float64: a byte may land on the other side of a rounding edge
        assert np.abs(drawn - np.frombuffer(reference_bytes(pooled.ravel()), dtype=np.uint8)).max() <= 1
    assert pictures._thumbnails([], scale=True) == []


def test_feature_pictures_show_each_feature_over_the_square():
    grid = pictures.grid_points(low=-6.0, high=6.0, size=OUTPUT_SIZE)
    drawn = pictures.feature_pictures(grid)
    x1 = np.frombuffer(base64.b64decode(drawn["x1"]), dtype=np.uint8).reshape(NEURON_SIZE, NEURON_SIZE)
    assert (np.diff(x1.astype(int), axis=1) >= 0).all() and x1[0, 0] < 10 and x1[0, -1] > 245  # left to right
    x2 = np.frombuffer(base64.b64decode(drawn["x2"]), dtype=np.uint8).reshape(NEURON_SIZE, NEURON_SIZE)
    assert x2[0, 0] > 245 and x2[-1, 0] < 10  # the top row is the largest x2


def test_layer_outputs_are_each_hidden_layers_units_as_the_network_computes_them():
    from neuralab.models import ModelShape, build_model
    from neuralab.spec import ModelSpec

    points = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    for spec in (ModelSpec(hidden=[8, 3, 20], activation=["tanh", "relu", "sigmoid"]),  # narrow and wide layers
                 ModelSpec(hidden=[4, 4], batch_norm=True), ModelSpec(hidden=[5], dropout=0.5)):
        model = build_model(spec, ModelShape(n_inputs=2, n_outputs=3))
        with torch.no_grad():
            model(torch.randn(64, 2))  # batch norm's running statistics move off their start
        hidden, scores = pictures.layer_outputs(model, points)
        model.eval()
        expected, rows = [], points
        for block in model.hidden:  # the blocks as the network runs them
            rows = block(rows)
            expected.append(rows)
        assert [layer.shape for layer in hidden] == [(50, width) for width in spec.hidden]
        for layer, wanted in zip(hidden, expected):
            assert torch.allclose(layer, wanted, atol=1e-6)
        assert torch.allclose(scores, model(points), atol=1e-6)
        model.train()
