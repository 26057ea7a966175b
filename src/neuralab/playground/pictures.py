"""What a frame draws, computed on the server: the output and every neuron over the input square.

One forward pass of the network over an ``OUTPUT_SIZE``² grid gives everything: the heat
map at full size, and each neuron's (and each class output's) thumbnail average-pooled to
``NEURON_SIZE``² (TensorFlow Playground pools its 100 × 100 grid to 10 × 10 the same way).
Values are sent as bytes (base64): a value v in [-1, 1] becomes round((v + 1) · 127.5), so
a 64 × 64 picture is 4 KiB; all the thumbnails of a layer travel as one string. Rows run
from the top of the square (largest x2) down, columns from the left (smallest x1), as a
canvas draws them. Weights travel as little-endian float32 bytes, so a NaN weight (a
diverged network) needs no special JSON.

Example:
    >>> import numpy as np
    >>> encode(np.array([-1.0, 0.0, 1.0]))
    'AID/'
    >>> grid_points(low=-1.0, high=1.0, size=2).tolist()
    [[-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]
"""
from __future__ import annotations

import base64

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuralab.spec.catalog import FEATURES
from neuralab.data import DataBundle
from neuralab.data.features import expand_features
from neuralab.models.eval_mode import evaluation_mode
from neuralab.spec.catalog import family
from neuralab.training.losses import Head

OUTPUT_SIZE = 64  # the decision-boundary heat map, OUTPUT_SIZE² points
NEURON_SIZE = 32  # each thumbnail: the heat-map grid pooled 2 × 2
NARROW_LAYER = 16  # below this many units a layer's product over the grid runs units-major (layer_outputs)
PLAYGROUND_SQUARE = 6.0  # TF Playground draws [-6, 6]²
PLAYGROUND_SETS = family("datasets", "playground", "yes")  # TF Playground's six: drawn on its square


def encode(values: np.ndarray | torch.Tensor) -> str:
    """Values in [-1, 1] (clipped; NaN → 0) as base64 bytes."""
    return base64.b64encode(quantised(values)).decode("ascii")


def quantised(values: np.ndarray | torch.Tensor) -> bytes:
    """Values in [-1, 1] (clipped; NaN → 0) as one byte each: round((v + 1) · 127.5), half to even."""
    values = torch.as_tensor(values)
    values = values if values.dtype in (torch.float32, torch.float64) else values.double()  # pictures stay float32
    clean = torch.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0).clamp_(-1.0, 1.0)
    return clean.add_(1.0).mul_(127.5).round_().to(torch.uint8).numpy().tobytes()


def grid_points(*, low: float, high: float, size: int) -> np.ndarray:
    """``size²`` raw (x1, x2) points covering the square, row by row from the top."""
    axis = np.linspace(low, high, size)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


def square_of(bundle: DataBundle) -> tuple[float, float]:
    """The input square drawn: Playground's [-6, 6] for its sets, else the data's extent."""
    if bundle.dataset in PLAYGROUND_SETS:
        return -PLAYGROUND_SQUARE, PLAYGROUND_SQUARE
    points = np.concatenate([bundle.raw_train, bundle.raw_dev, bundle.raw_test])
    low, high = float(points.min()), float(points.max())
    pad = 0.1 * (high - low or 1.0)
    return low - pad, high + pad


def model_inputs(bundle: DataBundle, raw: np.ndarray) -> torch.Tensor:
    """Raw points → the model's inputs (features, scaling), as the training data were made."""
    return torch.from_numpy(bundle.preprocessor.transform_inputs(raw.astype(np.float32))).float()


@torch.no_grad()
def layer_outputs(model: nn.Module, inputs: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every hidden layer's output (n, width) and the scores (n, n_outputs), in eval mode.

    Activations act element by element and dropout is off in eval mode, so a block is its
    activation of its product (:func:`_product`); a block with batch norm (which reads features
    along the rows' second axis) runs as it is.
    """
    with evaluation_mode(model):
        outputs, hidden = [], inputs
        for block in model.hidden:
            hidden = block(hidden) if hasattr(block, "norm") else block.activation(_product(block.linear, hidden))
            outputs.append(hidden)
        return outputs, _product(model.output, hidden)


def _product(linear: nn.Linear, rows: torch.Tensor) -> torch.Tensor:
    """``linear(rows)``, (n, out_features); a narrow layer's computed units-major, W·rowsᵀ + b, and
    handed on as its transposed view (no copy): with the grid's n points on the product's long side
    the BLAS runs it about five times faster than rows·Wᵀ (8 units × 4,096 points: 35 µs against
    170 µs here; from 16 units alike)."""
    if linear.out_features >= NARROW_LAYER:
        return linear(rows)
    return torch.addmm(linear.bias[:, None], linear.weight, rows.t()).t()


def network_pictures(model: nn.Module, head: Head, bundle: DataBundle, inputs: torch.Tensor) -> dict:
    """The heat map, each hidden layer's thumbnails and, with several outputs, each class's.

    ``inputs`` are the model inputs of :func:`grid_points` at ``OUTPUT_SIZE``. The heat map:
    binary → 2·P(class 1) − 1; multi-class → class and confidence; regression → value.
    """
    hidden, scores = layer_outputs(model, inputs)
    pictures = {"neurons": _thumbnails(hidden, scale=True), "size": NEURON_SIZE}
    if head.task == "regression":
        values = bundle.preprocessor.inverse_target(head.predict(scores).numpy())
        return {"output": {"kind": "value", "values": encode(values)}, **pictures}
    probabilities = head.probabilities(scores)  # (points, classes)
    if head.task == "binary":
        return {"output": {"kind": "binary", "values": encode(2 * probabilities[:, 1].numpy() - 1)}, **pictures}
    confidence, classes = probabilities.max(dim=1)
    output = {"kind": "classes", "classes": base64.b64encode(classes.numpy().astype(np.uint8).tobytes()).decode("ascii"),
              "values": encode(2 * confidence.numpy() - 1)}
    return {"output": output, "output_units": _thumbnails([2 * probabilities - 1], scale=False)[0], **pictures}


@torch.no_grad()
def _thumbnails(layers: list[torch.Tensor], *, scale: bool) -> list[str]:
    """One string per layer of (OUTPUT_SIZE², units) values: its units' pooled thumbnails, one after the other.

    Scaled and quantised in one pass for all the layers: on a small network a frame costs what
    its tensor operations cost to launch, on a big one what they cost to run.
    """
    if not layers:
        return []
    factor = OUTPUT_SIZE // NEURON_SIZE
    # every layer's units side by side, (OUTPUT_SIZE², units), pooled in one call on its channels-last view
    # (1, units, OUTPUT_SIZE, OUTPUT_SIZE): pooling along the units is 2–14× faster than grid by grid here
    grids = torch.cat([layer.float() for layer in layers], dim=1)
    units = grids.shape[1]
    pooled = F.avg_pool2d(grids.reshape(1, OUTPUT_SIZE, OUTPUT_SIZE, units).permute(0, 3, 1, 2), factor) \
        .reshape(units, NEURON_SIZE * NEURON_SIZE)  # (units, NEURON_SIZE²)
    if scale:  # each neuron by its largest |value|, so a weak one still shows its shape
        largest = pooled.abs().amax(dim=1, keepdim=True)
        pooled = pooled / torch.where(torch.isfinite(largest) & (largest > 1e-12), largest, torch.ones_like(largest))
    raw = quantised(pooled)  # (units · NEURON_SIZE²) bytes, unit after unit
    size, strings, start = NEURON_SIZE * NEURON_SIZE, [], 0
    for layer in layers:
        stop = start + layer.shape[1] * size
        strings.append(base64.b64encode(raw[start:stop]).decode("ascii"))
        start = stop
    return strings


def feature_pictures(raw_grid: np.ndarray) -> dict[str, str]:
    """Every input feature of the catalog over the square (raw, scaled by its largest |value|), by name.

    Example:
        >>> pictures = feature_pictures(grid_points(low=-6.0, high=6.0, size=OUTPUT_SIZE))
        >>> sorted(pictures) == sorted(FEATURES), len(base64.b64decode(pictures["x1"]))
        (True, 1024)
    """
    values = expand_features(raw_grid, list(FEATURES))  # (OUTPUT_SIZE², features)
    columns = torch.from_numpy(values / np.maximum(np.abs(values).max(axis=0), 1e-12))
    return dict(zip(FEATURES, _thumbnails([columns[:, [index]] for index in range(len(FEATURES))], scale=False)))


def weights_of(model: nn.Module) -> list[dict]:
    """Weights (out × in, row by row) and biases of each linear layer, as float32 bytes (base64)."""
    layers = []
    for layer in model.linear_layers():
        weight = layer.weight.detach().to(torch.float32).numpy().astype("<f4")
        bias = layer.bias.detach().to(torch.float32).numpy().astype("<f4")
        layers.append({"rows": int(weight.shape[0]), "columns": int(weight.shape[1]),
                       "weights": base64.b64encode(weight.tobytes()).decode("ascii"),
                       "biases": base64.b64encode(bias.tobytes()).decode("ascii")})
    return layers


def points_of(bundle: DataBundle, split: str) -> dict[str, list]:
    """Raw points of a split and their labels (class index, or value in original units)."""
    raw = getattr(bundle, f"raw_{split}")
    targets = getattr(bundle, f"y_{split}")
    if bundle.task == "regression":
        targets = bundle.preprocessor.inverse_target(targets)
    return {"x": np.round(raw[:, 0].astype(np.float64), 4).tolist(),
            "y": np.round(raw[:, 1].astype(np.float64), 4).tolist(),
            "label": np.round(np.asarray(targets, dtype=np.float64), 4).tolist()}


def dataset_previews(names: tuple[str, ...], *, points: int = 200) -> dict[str, dict]:
    """A few points of each data set at noise 0, for the picker's thumbnails (as Playground has).

    Example:
        >>> previews = dataset_previews(("circle", "plane"), points=20)
        >>> len(previews["circle"]["x"]), previews["plane"]["task"]
        (20, 'regression')
    """
    from neuralab.data import load_raw
    from neuralab.spec import DataSpec

    previews = {}
    for name in names:
        raw = load_raw(DataSpec(dataset=name, n_samples=points, noise=0.0), seed=0)
        low, high = (-PLAYGROUND_SQUARE, PLAYGROUND_SQUARE) if name in PLAYGROUND_SETS else \
            (float(raw.inputs.min()) - 0.2, float(raw.inputs.max()) + 0.2)
        previews[name] = {"x": np.round(raw.inputs[:, 0], 3).tolist(), "y": np.round(raw.inputs[:, 1], 3).tolist(),
                          "label": np.round(raw.targets.astype(np.float64), 3).tolist(), "square": [low, high],
                          "task": raw.task}
    return previews
