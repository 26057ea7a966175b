"""What a frame draws, computed on the server: the output and every neuron over the input square.

Values are sent as bytes (base64): a value v in [-1, 1] becomes round((v + 1) · 127.5), so
a 64 × 64 picture is 4 KiB. Rows run from the top of the square (largest x2) down, columns
from the left (smallest x1), as a canvas draws them.

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
from torch import nn

from neuralab.data import DataBundle
from neuralab.spec.catalog import family
from neuralab.training.losses import Head

OUTPUT_SIZE = 64  # the decision-boundary heat map, OUTPUT_SIZE² points
NEURON_SIZE = 24  # each neuron's thumbnail
PLAYGROUND_SQUARE = 6.0  # TF Playground draws [-6, 6]²
PLAYGROUND_SETS = family("datasets", "playground", "yes")  # TF Playground's six: drawn on its square


def encode(values: np.ndarray) -> str:
    """Values in [-1, 1] (clipped; NaN → 0) as base64 bytes."""
    clean = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    scaled = np.rint((np.clip(clean, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return base64.b64encode(scaled.tobytes()).decode("ascii")


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
    """Every hidden layer's output (n, width) and the scores (n, n_outputs), in eval mode."""
    was_training = model.training
    model.eval()
    try:
        outputs, hidden = [], inputs
        for block in model.hidden:
            hidden = block(hidden)
            outputs.append(hidden)
        return outputs, model.output(hidden)
    finally:
        model.train(was_training)


def output_picture(model: nn.Module, head: Head, bundle: DataBundle, inputs: torch.Tensor) -> dict:
    """The heat map: binary → 2·P(class 1) − 1; multi-class → class and confidence; regression → value."""
    _, scores = layer_outputs(model, inputs)
    if head.task == "regression":
        values = bundle.preprocessor.inverse_target(head.predict(scores).numpy())
        return {"kind": "value", "values": encode(values)}
    probabilities = head.probabilities(scores).numpy()
    if head.task == "binary":
        return {"kind": "binary", "values": encode(2 * probabilities[:, 1] - 1)}
    classes = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    return {"kind": "classes", "classes": base64.b64encode(classes.astype(np.uint8).tobytes()).decode("ascii"),
            "values": encode(2 * confidence - 1)}


def neuron_pictures(model: nn.Module, inputs: torch.Tensor) -> list[list[str]]:
    """Per hidden layer, per neuron: its output over the square, scaled by its largest |value|."""
    outputs, _ = layer_outputs(model, inputs)
    pictures = []
    for output in outputs:
        values = output.numpy()
        scale = np.abs(values).max(axis=0)
        scale[~np.isfinite(scale) | (scale < 1e-12)] = 1.0
        pictures.append([encode(values[:, unit] / scale[unit]) for unit in range(values.shape[1])])
    return pictures


def feature_pictures(bundle: DataBundle, inputs: torch.Tensor) -> list[str]:
    """Each input feature (after scaling) over the square, scaled by its largest |value|."""
    values = inputs.numpy()
    scale = np.abs(values).max(axis=0)
    scale[scale < 1e-12] = 1.0
    return [encode(values[:, column] / scale[column]) for column in range(values.shape[1])]


def weights_of(model: nn.Module) -> list[dict[str, list]]:
    """Weights (out × in) and biases of each linear layer, rounded for the wire."""
    return [{"weights": np.round(layer.weight.detach().numpy().astype(np.float64), 5).tolist(),
             "biases": np.round(layer.bias.detach().numpy().astype(np.float64), 5).tolist()}
            for layer in model.linear_layers()]


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
