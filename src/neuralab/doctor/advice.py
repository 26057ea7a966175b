"""Advice as concrete spec changes, following the lecture, and how to apply it mechanically.

Each :class:`Advice` changes one spec field (``field``, ``from``, ``to``) and says why;
items sharing a ``step`` number are applied together (e.g. ReLU *and* He init). Advice
that no spec field can carry out (e.g. "collect more data" for a bundled data set) has
``field`` None and is shown, never applied. Without a spec, the advice names the fields
to change but not the values (``from``/``to`` are None).

Order of the problems, most urgent first: a diverged run, symmetry, exploding and
vanishing gradients (through time first, for recurrent networks), a sequence model stuck at
its memoryless baseline, an initial loss far from ln K, a high clip rate, dead and saturated
units, then avoidable bias before variance (the lecture: fix the bias first).

Example:
    >>> from neuralab.spec import load_spec
    >>> from neuralab.doctor.advice import advise
    >>> spec = load_spec(None, overrides={"model.hidden": [4]})
    >>> first = advise("high_bias", spec)[0]
    >>> first.field, first.to
    ('model.hidden', [16, 16])
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from neuralab.spec.catalog import DATASETS, family
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training.rules import clip_norm

PROBLEMS = ("diverged", "symmetric", "exploding_through_time", "exploding", "vanishing_through_time", "vanishing",
            "stuck_at_baseline", "initial_loss_off", "loss_spikes", "high_clip_rate", "update_ratio_high",
            "attention_collapsed", "dead_units", "saturated", "attention_uniform", "update_ratio_low",
            "high_bias", "dev_train_gap", "high_variance")
# The transformer's problems (loss spikes … dev_train_gap) have their rules in doctor/transformer_checks.py.
MAX_WIDTH, MAX_DEPTH, MIN_WIDTH = 1024, 4, 16
SQUASHING = family("activations", "saturating", "both sides")
ADAPTIVE = family("optimizers", "adaptive", "yes")
SCALED_INITS = family("inits", "scale", "init_std")  # inits whose size model.init_std sets
GENERATED = tuple(n for n, e in DATASETS.items() if e.properties["size"].startswith("n_samples"))  # more: n_samples


@dataclass(frozen=True)
class Advice:
    """One concrete change: set ``field`` from ``from_`` to ``to`` because ``why``.

    Attributes:
        problem: the verdict it answers (one of :data:`PROBLEMS`).
        field: dotted spec field, or None for advice no field can carry out.
        from_: the current value (None without a spec).
        to: the advised value (None when not applicable mechanically).
        why: one sentence, in the lecture's words.
        step: items with the same step number are applied together.
    """

    problem: str
    field: str | None
    from_: Any
    to: Any
    why: str
    step: int = 0

    @property
    def applicable(self) -> bool:
        """True when the doctor can apply it: a field and a new value."""
        return self.field is not None and self.to is not None

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "problem": self.problem, "field": self.field,
                "from": self.from_, "to": self.to, "why": self.why}

    def describe(self) -> str:
        """``model.hidden [4] → [16, 16]: why`` (or just the why when not applicable)."""
        if self.field is None:
            return self.why
        if self.to is None:
            return f"{self.field}: {self.why}"
        return f"{self.field} {_show(self.from_)} → {_show(self.to)}: {self.why}"


Change = tuple[str, Callable[[Any], Any], str]  # field, current value → new value (None: skip), why


def advise(problem: str, spec: ExperimentSpec | None = None) -> list[Advice]:
    """Advice for one problem, as ordered steps of spec changes (numbered from 1)."""
    return number_steps([(problem, group) for group in RULES[problem](spec)], spec)


def number_steps(groups: Iterable[tuple[str, Sequence[Change]]], spec: ExperimentSpec | None) -> list[Advice]:
    """Turn ``(problem, [changes])`` groups into Advice numbered by step, dropping empty groups."""
    advice: list[Advice] = []
    step = 0
    for problem, group in groups:
        items = [item for change in group if (item := _make(problem, change, spec)) is not None]
        if not items:
            continue
        step += 1
        advice.extend(Advice(item.problem, item.field, item.from_, item.to, item.why, step) for item in items)
    return advice


def advice_lines(advice: Sequence[Advice]) -> list[str]:
    """One numbered line per step; the other changes of the same step follow on ``and`` lines.

    Example:
        >>> from neuralab.spec import load_spec
        >>> spec = load_spec(None, overrides={"train.l2": 0.01, "model.dropout": 0.2})
        >>> [line.split(":")[0] for line in advice_lines(advise("high_bias", spec))][-2:]
        ['4. train.l2 0.01 → 0.0', '   and model.dropout 0.2 → 0.0']
    """
    lines, step = [], None
    for item in advice:
        lines.append(f"{item.step}. {item.describe()}" if item.step != step else f"   and {item.describe()}")
        step = item.step
    return lines


def renumber(advice: Sequence[Advice]) -> list[Advice]:
    """Number steps 1, 2, … in the order they appear (items of one step stay together)."""
    mapping: dict[tuple[str, int], int] = {}
    for item in advice:
        mapping.setdefault((item.problem, item.step), len(mapping) + 1)
    return [Advice(a.problem, a.field, a.from_, a.to, a.why, mapping[(a.problem, a.step)]) for a in advice]


def apply_advice(spec: ExperimentSpec, advice: Iterable[Advice]) -> ExperimentSpec:
    """A new spec with every applicable item's ``field`` set to its ``to`` value (validated)."""
    overrides = {item.field: item.to for item in advice if item.applicable}
    return load_spec(spec, overrides=overrides)


def _make(problem: str, change: Change, spec: ExperimentSpec | None) -> Advice | None:
    field, rule, why = change
    if spec is None:
        return Advice(problem, None if field == "" else field, None, None, why)
    if field == "":
        return Advice(problem, None, None, None, why)
    current = _get(spec, field)
    new = rule(current)
    if new is None or new == current:
        return None
    return Advice(problem, field, current, new, why)


def _get(spec: ExperimentSpec, field: str) -> Any:
    node: Any = spec
    for part in field.split("."):
        node = getattr(node, part)
    return node.model_dump(mode="json") if hasattr(node, "model_dump") else node


def nice(value: float) -> float:
    """``value`` rounded to 3 significant digits, so advice reads 0.00333, not 0.0033333333."""
    return float(f"{value:.3g}")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# --------------------------------------------------------------------------- the rules


def bigger_hidden(hidden: list[int]) -> list[int] | None:
    """Wider (×2, at least 16) and one layer deeper (at most 4): ``[4] → [16, 16]``."""
    if not hidden:
        return [MIN_WIDTH]
    width = min(max(2 * max(hidden), MIN_WIDTH), MAX_WIDTH)
    bigger = [width] * min(len(hidden) + 1, MAX_DEPTH)
    return bigger if bigger != hidden else None


def smaller_hidden(hidden: list[int]) -> list[int] | None:
    """Half as wide (at least 2 units), one layer fewer when deeper than one."""
    if not hidden or (len(hidden) == 1 and hidden[0] <= 2):
        return None
    kept = hidden[:-1] if len(hidden) > 1 else hidden
    return [max(width // 2, 2) for width in kept]


def _recurrent(spec: ExperimentSpec | None) -> bool:
    return spec is not None and spec.model.is_recurrent


def _transformer(spec: ExperimentSpec | None) -> bool:
    return spec is not None and spec.model.kind == "transformer"


def _wider_transformer(settings: dict) -> dict | None:
    width = min(2 * settings["embed_dim"], MAX_WIDTH)
    return {**settings, "embed_dim": width} if width != settings["embed_dim"] else None


def _train_longer(spec: ExperimentSpec | None, why: str) -> Change:
    """Twice the epochs, or twice the optimiser steps of a step-based run."""
    if spec is not None and spec.train.max_steps is not None:
        return ("train.max_steps", lambda n: min(n * 2, 10_000_000), why)
    return ("train.epochs", lambda e: min(e * 2, 100_000), why)


def _bigger_model(spec: ExperimentSpec | None) -> Change:
    if _transformer(spec):
        return ("model.transformer", _wider_transformer, "the transformer is not big enough to fit the training data: "
                "a wider embedding (it may raise the variance; watch the dev loss)")
    if _recurrent(spec):
        return ("model.recurrent.hidden_size", lambda h: min(max(2 * h, MIN_WIDTH), MAX_WIDTH),
                "the network is not big enough to fit the training data: more recurrent units "
                "(it may raise the variance; watch the dev error)")
    return ("model.hidden", bigger_hidden, "the model is not complex enough to fit the training data: "
            "add layers and neurons (it may raise the variance; watch the dev error)")


def _high_bias(spec: ExperimentSpec | None) -> list[list[Change]]:
    optimizer = spec.train.optimizer if spec else ""
    lr = spec.train.learning_rate if spec else 0.0
    return [
        [_bigger_model(spec)],
        [_train_longer(spec, "train longer: the training error may still be falling")],
        [("train.optimizer", lambda o: None if o in ADAPTIVE else "adam",
          "an adaptive optimiser (Adam) usually fits faster than plain or momentum SGD"),
         ("train.learning_rate", lambda v: 0.001 if optimizer not in ADAPTIVE else None, "Adam's usual rate")],
        [("train.learning_rate", lambda v: nice(v * 3) if optimizer in ADAPTIVE and lr < 0.003 else None,
          "a larger learning rate reaches a lower training error in the same epochs")],
        [("train.l2", lambda v: 0.0 if v > 0 else None, "less regularisation: L2 keeps weights small and raises bias"),
         ("train.l1", lambda v: 0.0 if v > 0 else None, "less regularisation: L1 keeps weights small and raises bias"),
         ("model.dropout", lambda v: 0.0 if v > 0 else None, "less regularisation: dropout raises bias"),
         ("data.augment_noise", lambda v: 0.0 if v > 0 else None, "noisy inputs make the training set harder to fit")],
    ]


def _high_variance(spec: ExperimentSpec | None) -> list[list[Change]]:
    synthetic = spec is not None and spec.data.dataset in GENERATED and not spec.data.path
    has_hidden = spec is None or bool(spec.model.hidden) or spec.model.is_recurrent or _transformer(spec)
    more_data: Change = (("data.n_samples", lambda n: min(n * 2, 1_000_000),
                          "the training data are not enough to generalise: add data (the lecture's simplest fix)")
                         if synthetic or spec is None else
                         ("", lambda v: None, "collect more labelled data: the training data are not enough to "
                                             "generalise (the lecture's simplest fix)"))
    return [
        [more_data],
        [("data.augment_noise", lambda v: 0.1 if v == 0 else (min(round(v * 2, 6), 1.0) if v < 0.5 else None),
          "data augmentation (noise on the inputs) adds data without raising bias")],
        [("train.l2", lambda v: 0.001 if v == 0 else min(nice(v * 10), 10.0),
          "L2 regularisation keeps weights small: less variance")],
        [("model.dropout", lambda v: (0.2 if v == 0 else min(round(v + 0.2, 4), 0.7)) if has_hidden else None,
          "dropout stops units from co-adapting: less variance")],
        [("train.early_stopping.patience", lambda v: 20 if v is None else None,
          "early stopping keeps the epoch with the best dev error")],
        [("model.recurrent.hidden_size", lambda h: max(h // 2, 2) if h > 2 else None,
          "a smaller network cannot memorise the training sequences as easily") if _recurrent(spec) else
         ("model.transformer", lambda t: {**t, "embed_dim": t["embed_dim"] // 2}
          if (t["embed_dim"] // 2) % t["heads"] == 0 and t["embed_dim"] >= 2 * t["heads"] else None,
          "a narrower transformer cannot memorise the training sequences as easily") if _transformer(spec) else
         ("model.hidden", smaller_hidden, "a smaller model cannot memorise the training set as easily")],
    ]


def _good_init(spec: ExperimentSpec | None) -> str:
    activations = spec.model.layer_activations() if spec else []
    return "xavier_normal" if activations and all(a in SQUASHING for a in activations) else "he_normal"


def _clip_to_one(spec: ExperimentSpec | None) -> Callable[[Any], float | None]:
    """Clip at 1 when the spec does not clip (``auto`` resolved per kind) or clips above 1."""
    def rule(value: Any) -> float | None:
        norm = clip_norm(spec) if spec is not None else value
        return 1.0 if norm is None or norm > 1.0 else None
    return rule


def _exploding(spec: ExperimentSpec | None) -> list[list[Change]]:
    large_init = spec is not None and spec.model.init in SCALED_INITS and spec.model.init_std > 0.2
    return [
        [("train.learning_rate", lambda v: nice(v / 10), "a smaller step keeps updates from overshooting"),
         ("train.grad_clip", _clip_to_one(spec), "clipping the gradient norm bounds each update")],
        [("model.init", lambda v: _good_init(spec) if large_init else None,
          "Xavier/He init keeps the signal's scale constant from layer to layer")],
    ]


def _vanishing(spec: ExperimentSpec | None) -> list[list[Change]]:
    if _recurrent(spec):
        return _vanishing_through_time(spec)
    squashing = spec is not None and any(a in SQUASHING for a in spec.model.layer_activations())
    return [
        [("model.activation", lambda v: "relu" if squashing else None,
          "ReLU's gradient is 1 for active units, where sigmoid's is at most 0.25 per layer"),
         ("model.init", lambda v: "he_normal" if v != "he_normal" else None,
          "He init keeps gradient norms constant through ReLU layers")],
        [("model.batch_norm", lambda v: True if not v else None,
          "batch normalisation keeps each layer's inputs centred and scaled")],
    ]


def _dead_units(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [
        [("model.recurrent.nonlinearity", lambda v: "tanh",
          "a tanh RNN has no dead units (a ReLU unit that outputs 0 at every step gets no gradient)")
         if _recurrent(spec) else
         ("model.activation", lambda v: "leaky_relu",
          "leaky ReLU keeps a small gradient for negative inputs, so units can recover")],
        [("train.learning_rate", lambda v: nice(v / 3),
          "large steps push units into the region where ReLU outputs 0 for every sample")],
    ]


def _saturated(spec: ExperimentSpec | None) -> list[list[Change]]:
    if _recurrent(spec):
        return [[("train.learning_rate", lambda v: nice(v / 3), "hidden states pinned at ±1 stop passing gradients "
                  "through time; smaller steps keep the recurrent weights from growing")]]
    return [
        [("model.init", lambda v: "xavier_normal" if v != "xavier_normal" else None,
          "Xavier init keeps sigmoid/tanh inputs near 0, where the gradient is largest")],
        [("model.batch_norm", lambda v: True if not v else None,
          "batch normalisation keeps pre-activations centred, away from the flat ends")],
    ]


def _symmetric(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("model.init", lambda v: _good_init(spec),
              "identical initial weights give every unit of a layer the same gradient, so they never "
              "differ: start from random weights (symmetry breaking)")]]


def _diverged(spec: ExperimentSpec | None) -> list[list[Change]]:
    return _exploding(spec)


# --------------------------------------------------------------------------- recurrent networks, through time


def _gated_cell(spec: ExperimentSpec | None) -> Change:
    return ("model.kind", lambda kind: "lstm" if kind == "rnn" else None,
            "an LSTM's cell state carries the gradient through time almost unchanged while its forget gate is "
            "near 1: the lecture's cure for a plain RNN's vanishing gradient")


def _forget_bias(spec: ExperimentSpec | None) -> Change:
    kind = spec.model.kind if spec else "lstm"
    return ("model.recurrent.forget_bias", lambda bias: 1.0 if kind == "lstm" and bias < 1.0 else None,
            "a forget-gate bias of 1 makes the cell remember by default at the start (Jozefowicz et al. 2015)")


SHORTER = ("", lambda v: None, "a shorter data.sequence_length (T) is easier to learn first (a curriculum); it "
           "changes the task, so the doctor leaves it to you")


def _vanishing_through_time(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[_gated_cell(spec)], [_forget_bias(spec)],
            [("model.recurrent.hidden_size", lambda h: min(2 * h, MAX_WIDTH) if h < 128 else None,
              "more units give the cell room to keep what it must remember")], [SHORTER]]


def _exploding_through_time(spec: ExperimentSpec | None) -> list[list[Change]]:
    relu_identity = spec is not None and spec.model.kind == "rnn" and spec.model.recurrent.nonlinearity == "relu"
    return [
        [("train.grad_clip", _clip_to_one(spec),
          "clipping the gradient norm bounds each update, however large the gradient through time"),
         ("train.learning_rate", lambda v: nice(v / 3), "a smaller step keeps the recurrent weights' gain below 1")],
        [("model.recurrent.init", lambda v: "orthogonal" if relu_identity and v != "orthogonal" else None,
          "orthogonal recurrent weights neither grow nor shrink the signal at the start")],
        [_gated_cell(spec)],
    ]


def _stuck_at_baseline(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[_gated_cell(spec)], [_forget_bias(spec)],
            [("train.learning_rate", lambda v: nice(v / 3), "a smaller step settles where a larger one "
              "bounces around the memoryless solution")],
            [("train.epochs", lambda e: min(e * 2, 100_000), "sequence tasks often sit on a plateau before "
              "the network finds the memory it needs: train longer")]]


def _initial_loss_off(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("model.recurrent.init", lambda v: "auto" if v != "auto" else None,
              "the recurrent kinds' own initialisation starts near a uniform guess")],
            [("", lambda v: None, "check the data's classes and the output layer: a fresh network should score "
              "about ln K")]]


def _high_clip_rate(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("train.learning_rate", lambda v: nice(v / 3),
              "with most steps clipped the rate is too high for the gradients this task makes")]]


RULES: dict[str, Callable[[ExperimentSpec | None], list[list[Change]]]] = {
    "diverged": _diverged, "symmetric": _symmetric, "exploding": _exploding, "vanishing": _vanishing,
    "dead_units": _dead_units, "saturated": _saturated, "high_bias": _high_bias, "high_variance": _high_variance,
    "exploding_through_time": _exploding_through_time, "vanishing_through_time": _vanishing_through_time,
    "stuck_at_baseline": _stuck_at_baseline, "initial_loss_off": _initial_loss_off,
    "high_clip_rate": _high_clip_rate,
}
