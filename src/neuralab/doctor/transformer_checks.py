"""The doctor for transformers: where the heads look, loss spikes, the dev–train gap, update sizes.

A transformer run (``model.kind: transformer``) is judged on what its kind can go wrong at,
beside the sequence checks every sequence model gets (initial loss ≈ ln V, stuck at the
memoryless baseline, clip rate — :mod:`neuralab.doctor.through_time`):

* **attention entropy per head**, on dev text read by the explicit attention path: a head
  whose weights sit on one token (entropy under 10 % of a uniform spread) has
  ``collapsed``; one spread almost evenly (over 90 %) is ``uniform`` — it has not learned
  where to look. Most heads collapsed means the attention logits grew too large
  (``attention_collapsed``); most uniform, that the heads have not learned yet
  (``attention_uniform``);
* **loss spikes**: a sampled training loss 50 % above the median of the five before it, or
  an evaluation period whose train loss rose 20 % over the previous one (``loss_spikes``);
* the **dev–train gap**: dev loss more than 10 % above train loss (``dev_train_gap``);
* **gradient norm** (all layers together, before clipping) at the start, the end and its
  largest, beside the clip threshold;
* **update-to-weight ratio** per layer, ‖ΔW‖ / ‖W‖ per step (median over the later half):
  around 10⁻³ is healthy; above 10⁻² the steps are too large (``update_ratio_high``), below
  10⁻⁴ too small to learn in the steps given (``update_ratio_low``).

Each problem has its advice (registered with :mod:`neuralab.doctor.advice`).

Example:
    >>> [round(v, 2) for v in spike_steps([3.0, 2.9, 2.8, 2.7, 2.6, 5.0, 2.5], steps=[1, 2, 3, 4, 5, 6, 7])[0]]
    [6, 5.0, 2.8]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import torch

from neuralab.doctor import advice
from neuralab.doctor.advice import Change, _train_longer, nice
from neuralab.doctor.verdicts import Finding
from neuralab.models.attention import attention_entropy, uniform_entropy
from neuralab.models.eval_mode import evaluation_mode
from neuralab.runs.run import Run, run_data
from neuralab.spec import ExperimentSpec
from neuralab.training.rules import clip_norm

TRANSFORMER_VERDICTS = ("attention_collapsed", "attention_uniform", "loss_spikes", "dev_train_gap",
                        "update_ratio_high", "update_ratio_low")
COLLAPSED, UNIFORM = 0.1, 0.9  # a head's entropy as a share of a uniform spread over the tokens it may read
MOST = 0.5  # "most heads": at least half
SPIKE_FACTOR, SPIKE_WINDOW, PERIOD_RISE = 1.5, 5, 1.2
GAP_MARGIN = 0.1  # dev loss 10 % above train loss
UPDATE_HIGH, UPDATE_LOW = 1e-2, 1e-4  # per-step ‖ΔW‖/‖W‖: ~1e-3 is healthy
PROBE_ROWS = 16  # dev windows the attention is read on


@dataclass
class TransformerDiagnosis:
    """What the doctor found in a transformer run; ``findings`` carry cause and cure."""

    heads: list[list[dict[str, Any]]]  # per layer, per head: entropy (nats), share of uniform, label
    uniform_entropy: float
    spikes: list[dict[str, Any]]
    train_loss: float
    dev_loss: float
    gap: float | None  # (dev − train) / train
    grad_norm: dict[str, float | None]
    clip: float | None
    update_ratios: dict[str, float | None]  # layer → median ‖ΔW‖/‖W‖ over the later half
    findings: list[Finding] = field(default_factory=list)
    picture: dict[str, Any] | None = field(default=None, repr=False)  # tokens and (layers, heads, t, t) weights

    @property
    def verdicts(self) -> list[str]:
        return [finding.verdict for finding in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {"verdicts": self.verdicts, "findings": [f.to_dict() for f in self.findings],
                "heads": self.heads, "uniform_entropy": self.uniform_entropy, "loss_spikes": self.spikes,
                "train_loss": self.train_loss, "dev_loss": self.dev_loss, "dev_train_gap": self.gap,
                "grad_norm": self.grad_norm, "grad_clip": self.clip, "update_ratios": self.update_ratios}


def probe_inputs(run: Run) -> torch.Tensor:
    """The first dev windows of the run's data (encoded with the run's own vocabulary), cropped to its context."""
    bundle = run_data(run)
    inputs = torch.from_numpy(bundle.x_dev[:PROBE_ROWS])
    return inputs[:, -run.model.block_size:]


def head_entropies(model: torch.nn.Module, inputs: torch.Tensor) -> tuple[list[list[float]], float, torch.Tensor]:
    """Mean attention entropy (nats) of every head, (layers × heads), that of a uniform spread, and the
    first input's weights (layers, heads, t, t)."""
    with evaluation_mode(model):
        _, maps = model.attention_maps(inputs)
    uniform = uniform_entropy(inputs.shape[1], causal=model.causal)
    return [attention_entropy(m).tolist() for m in maps], uniform, torch.stack([m[0] for m in maps])


def spike_steps(losses: list[float | None], *, steps: list[int]) -> list[tuple[int, float, float]]:
    """(step, loss, median before) of every loss over 1.5 × the median of the five before it."""
    found = []
    for index in range(3, len(losses)):
        before = [v for v in losses[max(0, index - SPIKE_WINDOW):index] if v is not None]
        value = losses[index]
        if value is not None and before and value > SPIKE_FACTOR * median(before):
            found.append((steps[index], value, float(median(before))))
    return found


def diagnose_transformer(run: Run, health: dict[str, Any] | None) -> TransformerDiagnosis | None:
    """The transformer checks of a run; None for other model kinds."""
    if run.spec.model.kind != "transformer" or not hasattr(run.model, "attention_maps"):
        return None
    inputs = probe_inputs(run)
    entropies, uniform, first = head_entropies(run.model, inputs)
    heads = [[{"entropy": h, "share": h / uniform if uniform > 0 else None, "label": _label(h, uniform)}
              for h in layer] for layer in entropies]
    samples = (health or {}).get("samples") or []
    spikes = [{"step": step, "loss": loss, "before": before, "source": "sampled batch"}
              for step, loss, before in spike_steps([s.get("loss") for s in samples], steps=[s["step"] for s in samples])]
    for previous, row in zip(run.history, run.history[1:]):
        if row["train_loss"] > PERIOD_RISE * previous["train_loss"]:
            spikes.append({"step": row.get("step", row["epoch"]), "loss": row["train_loss"],
                           "before": previous["train_loss"], "source": "evaluation period"})
    train, dev = float(run.summary["train_loss"]), float(run.summary["dev_loss"])
    norms = [math.sqrt(sum(g * g for g in s["grad_norm"] if g is not None)) for s in samples]
    later = samples[len(samples) // 2:]
    names = [layer["name"] for layer in (health or {}).get("layers", [])]
    ratios = {name: _median([s["update_ratio"][i] for s in later]) for i, name in enumerate(names)}
    diagnosis = TransformerDiagnosis(
        heads=heads, uniform_entropy=uniform, spikes=spikes, train_loss=train, dev_loss=dev,
        gap=(dev - train) / train if train > 0 else None,
        grad_norm={"start": norms[0] if norms else None, "end": norms[-1] if norms else None,
                   "max": max(norms) if norms else None}, clip=clip_norm(run.spec), update_ratios=ratios)
    diagnosis.findings = _findings(diagnosis, run.spec)
    if inputs.dim() == 2 and hasattr(run.preprocessor, "labels"):  # text: the first dev window, token by token
        diagnosis.picture = {"tokens": run.preprocessor.labels(inputs[0].numpy()), "weights": first.numpy(),
                             "entropy": entropies}
    return diagnosis


def transformer_markdown(d: TransformerDiagnosis) -> list[str]:
    """The report's "Attention and training dynamics" section."""
    def number(value: float | None, form: str = ".3g") -> str:
        return "—" if value is None or not math.isfinite(value) else format(value, form)

    lines = ["## Attention and training dynamics", "",
             "| layer | " + " | ".join(f"head {i + 1}" for i in range(len(d.heads[0]) if d.heads else 0)) + " |",
             "|---|" + "---|" * (len(d.heads[0]) if d.heads else 0)]
    lines += [f"| {index + 1} | " + " | ".join(f"{h['entropy']:.2f} nats ({h['label']})" for h in layer) + " |"
              for index, layer in enumerate(d.heads)]
    lines += ["", f"Attention entropy per head on dev text (uniform spread: {d.uniform_entropy:.2f} nats). "
              f"Gradient norm {number(d.grad_norm['start'])} at the start, {number(d.grad_norm['end'])} at the end, "
              f"largest {number(d.grad_norm['max'])} (clipped at {number(d.clip, 'g')}); dev − train loss "
              f"{number(d.dev_loss - d.train_loss)} ({number(d.gap, '.1%')}); {len(d.spikes)} loss spike(s).", "",
              "| layer | update/weight per step |", "|---|---|"]
    lines += [f"| {name} | {number(ratio, '.1e')} |" for name, ratio in d.update_ratios.items()]
    lines += [""] + [f"- **{f.verdict}** — {f.cause}. Cure: {f.cure}." for f in d.findings]
    return lines + ([""] if d.findings else ["No transformer-specific problem found.", ""])


def _label(entropy: float, uniform: float) -> str:
    if uniform <= 0:
        return "-"
    share = entropy / uniform
    return "collapsed" if share < COLLAPSED else "uniform" if share > UNIFORM else "focused"


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return float(median(kept)) if kept else None


def _findings(d: TransformerDiagnosis, spec: ExperimentSpec) -> list[Finding]:
    found = []
    labels = [head["label"] for layer in d.heads for head in layer]
    for label, verdict, cause, cure in (
            ("collapsed", "attention_collapsed", "put nearly all their weight on a single token: the attention "
             "scores q·k/√d grew large, so the softmax saturates and passes almost no gradient",
             "a lower learning rate with warm-up, and weight decay on the weight matrices"),
            ("uniform", "attention_uniform", "spread their weight almost evenly over every token they may read: "
             "they have not learned where to look", "train longer or at a higher learning rate")):
        count = labels.count(label)
        if labels and count >= MOST * len(labels):
            found.append(Finding(verdict, f"{count} of {len(labels)} heads {cause}", cure))
    if d.spikes:
        worst = max(d.spikes, key=lambda s: s["loss"] / max(s["before"], 1e-12))
        found.append(Finding("loss_spikes", f"{len(d.spikes)} loss spike(s): at step {worst['step']} the loss jumped "
                             f"to {worst['loss']:.3g} from about {worst['before']:.3g} ({worst['source']}): a step "
                             "that overshot", "a lower learning rate, warm-up, gradient clipping at 1, β2 0.95"))
    if d.gap is not None and d.gap > GAP_MARGIN:
        found.append(Finding("dev_train_gap", f"the dev loss {d.dev_loss:.4g} is {d.gap:.0%} above the train loss "
                             f"{d.train_loss:.4g}: the model is memorising its training text",
                             "dropout, weight decay, a smaller model, or fewer steps (more text, if you have it)"))
    high = {name: r for name, r in d.update_ratios.items() if r is not None and r > UPDATE_HIGH}
    low = {name: r for name, r in d.update_ratios.items() if r is not None and r < UPDATE_LOW}
    if high:
        found.append(Finding("update_ratio_high", f"each step changes {_layers(high)} by more than "
                             f"{UPDATE_HIGH:g} of its norm (healthy: about 1e-3): the steps are too large",
                             "a lower learning rate"))
    elif low and len(low) >= MOST * len(d.update_ratios):
        found.append(Finding("update_ratio_low", f"each step changes {_layers(low)} by less than {UPDATE_LOW:g} of its "
                             "norm (healthy: about 1e-3): learning crawls", "a higher learning rate"))
    return found


def _layers(ratios: dict[str, float]) -> str:
    shown = ", ".join(f"{name} ({ratio:.1e})" for name, ratio in list(ratios.items())[:3])
    return shown + (f" and {len(ratios) - 3} more" if len(ratios) > 3 else "")


# --------------------------------------------------------------------------- advice


def _warmup(spec: ExperimentSpec | None) -> Change:
    steps = spec.train.max_steps if spec is not None and spec.train.max_steps else 1000
    return ("train.schedule", lambda s: {**s, "name": "warmup_cosine", "warmup_steps": max(steps // 20, 1)}
            if s["name"] != "warmup_cosine" else None,
            "warm-up grows the rate from 0 while Adam's moment estimates settle, then cosine decay")


def _collapsed(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("train.learning_rate", lambda v: nice(v / 3), "smaller steps keep the attention scores from growing "
              "until the softmax saturates"), _warmup(spec)],
            [("train.l2", lambda v: 0.1 if v < 0.1 else None, "weight decay (AdamW) keeps the query and key weights "
              "small")]]


def _uniform(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[_train_longer(spec, "the heads need more steps to learn where to look")], [("train.learning_rate", lambda v: nice(v * 3) if v < 3e-3 else None,
                               "a larger rate moves the heads away from their uniform start sooner")]]


def _spikes(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("train.learning_rate", lambda v: nice(v / 2), "a smaller step does not overshoot"), _warmup(spec)],
            [("train.grad_clip", lambda v: 1.0 if spec is None or (clip_norm(spec) or math.inf) > 1.0 else None,
              "clipping the gradient norm at 1 bounds every step")],
            [("train.beta2", lambda v: 0.95 if v is None or v > 0.95 else None,
              "a shorter memory of squared gradients reacts to a sudden large gradient before it does harm")]]


def _gap(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("model.dropout", lambda v: 0.2 if v < 0.2 else min(round(v + 0.1, 4), 0.5),
              "dropout on attention and residual branches regularises a transformer")],
            [("train.l2", lambda v: 0.1 if v < 0.1 else None, "weight decay (AdamW) keeps the weights small")],
            [("model.transformer", lambda t: {**t, "embed_dim": t["embed_dim"] // 2}
              if t["embed_dim"] >= 2 * t["heads"] and (t["embed_dim"] // 2) % t["heads"] == 0 else None,
              "a narrower model cannot memorise the training text as easily")]]


def _update_high(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("train.learning_rate", lambda v: nice(v / 3), "updates of about 1e-3 of each weight matrix per step "
              "are the healthy size")]]


def _update_low(spec: ExperimentSpec | None) -> list[list[Change]]:
    return [[("train.learning_rate", lambda v: nice(v * 3), "updates of about 1e-3 of each weight matrix per step "
              "are the healthy size")]]


advice.RULES.update({"attention_collapsed": _collapsed, "attention_uniform": _uniform, "loss_spikes": _spikes,
                     "dev_train_gap": _gap, "update_ratio_high": _update_high, "update_ratio_low": _update_low})
