"""Classic mode against TensorFlow Playground's update rule, written here from its formulas.

The reference below is plain numpy in float64, written from the formulas of TF Playground's
training (not from its code, and sharing nothing with neuralab's engine):

* forward: a = f(W·a_prev + b) layer by layer; the output o = tanh(z) for classification
  (labels t = ±1) and o = z for regression; the error of a point is E = ½(o − t)²;
* backward: dE/do = o − t; each weight's derivative dE/dw = δ·a_prev with δ = dE/dz;
* every ``batch`` points, in the data's own order every epoch: each weight and bias moves
  by −lr·(the mean of its accumulated derivatives); then each weight moves by
  −lr·rate·R'(w_before), w_before being the weight before this update, R'(w) = w for L2
  (the penalty ½·rate·w²) and sign(w) for L1; under L1 a weight that this last move carries
  across zero is set to 0 and stays 0 (a dead link: never updated again);
* the reported loss: the mean of E over the whole training (and test) set after the epoch.

neuralab's classic mode is the playground's default state turned into a spec
(:func:`neuralab.playground.state.to_spec`), trained by the :class:`Experiment` in float64
from the same initial weights and the same rows; the two must agree to 1e-6 over 50 epochs.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from neuralab.data import load_data
from neuralab.playground.state import PlaygroundState, to_spec
from neuralab.training.experiment import Experiment

EPOCHS = 50


def tfp_reference(weights, biases, x, t, x_test, t_test, *, regression, learning_rate, batch, regularization,
                  rate, epochs=EPOCHS):
    """TF Playground's training of a tanh network from its formulas; (train losses, test losses, weights, dead)."""
    weights = [np.array(w, dtype=np.float64) for w in weights]  # (out, in) per layer
    biases = [np.array(b, dtype=np.float64) for b in biases]
    dead = [np.zeros(w.shape, dtype=bool) for w in weights]

    def forward(inputs):
        values, a = [inputs], inputs
        for index, (w, b) in enumerate(zip(weights, biases)):
            z = a @ w.T + b
            a = z if (regression and index == len(weights) - 1) else np.tanh(z)
            values.append(a)
        return values

    def loss(inputs, targets):
        return float(np.mean(0.5 * (forward(inputs)[-1][:, 0] - targets) ** 2))

    train_losses, test_losses = [], []
    for _ in range(epochs):
        for start in range(0, len(x), batch):
            values = forward(x[start:start + batch])
            output = values[-1]
            count = len(output)
            # δ of the output: dE/do · do/dz (tanh' = 1 − o², linear' = 1)
            delta = (output - t[start:start + batch, None]) * (1.0 if regression else 1 - output ** 2)
            derivatives = []
            for index in range(len(weights) - 1, -1, -1):
                derivatives.append((delta.T @ values[index], delta.sum(axis=0)))  # summed over the batch
                if index:
                    delta = (delta @ weights[index]) * (1 - values[index] ** 2)  # through tanh
            for index, (weight_sum, bias_sum) in enumerate(reversed(derivatives)):
                before = weights[index]
                biases[index] = biases[index] - learning_rate * bias_sum / count
                stepped = before - learning_rate * weight_sum / count
                slope = {"l2": before, "l1": np.sign(before)}.get(regularization, 0.0)
                moved = stepped - learning_rate * rate * slope
                if regularization == "l1":
                    dead[index] |= stepped * moved < 0  # crossed zero in the regularisation move
                weights[index] = np.where(dead[index], 0.0, moved)
        train_losses.append(loss(x, t))
        test_losses.append(loss(x_test, t_test))
    return train_losses, test_losses, weights, dead


def engine_run(state: PlaygroundState, epochs: int = EPOCHS):
    """The playground's spec of ``state`` trained by the Experiment in float64: its numbers and its start."""
    spec = to_spec(state, epochs=epochs)
    bundle = load_data(spec.data, seed=spec.seed)
    for split in ("train", "dev", "test"):  # float64 throughout, so 50 epochs compare to 1e-6
        setattr(bundle, f"x_{split}", getattr(bundle, f"x_{split}").astype(np.float64))
        if bundle.task == "regression":
            setattr(bundle, f"y_{split}", getattr(bundle, f"y_{split}").astype(np.float64))
    experiment = Experiment.from_spec(spec, bundle=bundle, device="cpu")
    experiment.model.double()
    layers = experiment.model.linear_layers()
    start = ([l.weight.detach().numpy().copy() for l in layers], [l.bias.detach().numpy().copy() for l in layers])
    test_losses = []
    with experiment.training():
        experiment.begin(record_health=False)
        for _ in range(epochs):
            assert experiment.run_epoch()
            test_losses.append(experiment.score(["test"])["test"]["loss"])
        experiment.end()
    train_losses = [row["train_loss"] for row in experiment.state.history]
    final = [l.weight.detach().numpy() for l in layers]
    return experiment, start, train_losses, test_losses, final


def reference_of(experiment: Experiment, start, *, state: PlaygroundState, epochs: int = EPOCHS):
    bundle, regression = experiment.bundle, experiment.head.task == "regression"
    labels = (lambda y: y.astype(np.float64)) if regression else (lambda y: 2.0 * y - 1.0)  # classes → TFP's ±1
    return tfp_reference(*start, bundle.x_train.astype(np.float64), labels(bundle.y_train),
                         bundle.x_test.astype(np.float64), labels(bundle.y_test), regression=regression,
                         learning_rate=state.learning_rate, batch=state.batch_size,
                         regularization=state.regularization, rate=state.regularization_rate, epochs=epochs)


@pytest.mark.parametrize("changes", [
    {},  # the page as it opens: circle, 4-2 tanh, SGD at 0.03, batch 10, 250 train / 250 test points
    {"dataset": "xor", "regularization": "l2", "regularization_rate": 0.03, "features": ["x1", "x2", "x1*x2"]},
    {"dataset": "gauss", "noise": 0.3, "regularization": "l1", "regularization_rate": 0.03, "ratio": 30},
    {"problem": "regression", "dataset": "plane", "n_samples": 600, "hidden": [3], "activations": ["tanh"]},
], ids=["default", "l2", "l1", "regression"])
def test_classic_mode_trains_as_tf_playgrounds_update_rule(changes):
    state = PlaygroundState.model_validate({**PlaygroundState().model_dump(), **changes})
    experiment, start, train_losses, test_losses, final = engine_run(state)
    expected_train, expected_test, expected_weights, dead = reference_of(experiment, start, state=state)
    np.testing.assert_allclose(train_losses, expected_train, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(test_losses, expected_test, rtol=1e-6, atol=1e-9)
    for got, expected in zip(final, expected_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert train_losses[-1] < train_losses[0]
    if state.regularization == "l1":  # some weights died, and they are exactly 0 in both
        assert any(mask.any() for mask in dead)
        assert all(np.all(got[mask] == 0) for got, mask in zip(final, dead))


def test_classic_starts_on_tf_playgrounds_scale_and_modern_on_cross_entropys():
    classic = engine_run(PlaygroundState(), epochs=1)[2][0]
    modern = engine_run(PlaygroundState(mode="modern", init="xavier_uniform"), epochs=1)[2][0]
    assert 0.3 < classic < 0.6 and 0.6 < modern < 0.8  # ½(o − t)² on ±1 labels vs cross-entropy (ln 2 ≈ 0.69)


def test_the_page_in_float32_stays_on_the_reference():
    state = PlaygroundState()
    spec = to_spec(state, epochs=5)
    experiment = Experiment.from_spec(spec, device="cpu")
    layers = experiment.model.linear_layers()
    start = ([l.weight.detach().numpy().astype(np.float64) for l in layers],
             [l.bias.detach().numpy().astype(np.float64) for l in layers])
    experiment.fit(record_health=False)
    expected = reference_of(experiment, start, state=state, epochs=5)[0]
    np.testing.assert_allclose([row["train_loss"] for row in experiment.state.history], expected, rtol=1e-5)
    assert torch.get_default_dtype() == torch.float32
