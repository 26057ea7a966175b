"""Write a diagnosis into the run directory: ``report.json``, ``report.md`` and pictures.

Pictures: ``curves.png`` (loss/error per epoch, written with the run), ``gradient_norms.png``
(a layer × step heat map of gradient norms), ``activations.png`` (activation histograms at
the start and end of training) and ``learning_curve.png`` when a learning curve was drawn.

Example:
    >>> from neuralab.doctor.report import markdown_table
    >>> print(markdown_table(["a", "b"], [[1, 2]]))
    | a | b |
    |---|---|
    | 1 | 2 |
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.runs.files import save_figure, write_json, write_text_atomic
from neuralab.runs.run import Run

if TYPE_CHECKING:
    from neuralab.doctor.diagnosis import Diagnosis



def write_report(diagnosis: Diagnosis, run: Run, folder: str | Path) -> Path:
    """Write report.json, report.md and the PNGs into ``folder``; return ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "report.json", diagnosis.to_dict())
    pictures = _write_pictures(diagnosis, run, folder)
    write_text_atomic(folder / "report.md", report_markdown(diagnosis, pictures))
    return folder


def _write_pictures(diagnosis: Diagnosis, run: Run, folder: Path) -> list[tuple[str, str]]:
    from neuralab.viz.health_plots import plot_activation_histograms, plot_gradient_heatmap, plot_learning_curve

    pictures = [("loss and error per epoch", "curves.png")] if (folder / "curves.png").is_file() else []
    health = run.health
    if health is None and run.dir is not None:
        from neuralab.runs.records import read_health

        health = read_health(run.dir)
    if health and health["samples"]:
        names = [layer["name"] for layer in health["layers"]]
        save_figure(plot_gradient_heatmap(health["samples"], names), folder / "gradient_norms.png")
        pictures.append(("gradient norm per layer over training", "gradient_norms.png"))
        save_figure(plot_activation_histograms(health.get("histograms"), names,
                                               activations=[layer.get("activation") for layer in health["layers"]]),
                    folder / "activations.png")
        pictures.append(("activation histograms, start and end", "activations.png"))
    sequence = diagnosis.sequence
    if sequence is not None and sequence.curves:
        from neuralab.viz.sequence_plots import plot_gradient_through_time

        curves = [(f"{name} (step {curve['step']})", curve["norms"]) for name, curve in
                  (("start", sequence.curves["first"]), ("end", sequence.curves["last"]))]
        save_figure(plot_gradient_through_time(curves, title=f"gradient through time ({sequence.cell}, "
                                                             f"T = {sequence.sequence_length})"),
                    folder / "gradient_through_time.png")
        pictures.append(("gradient norm ‖∂L/∂h_t‖ per time step, start and end of training",
                         "gradient_through_time.png"))
    picture = diagnosis.transformer.picture if diagnosis.transformer is not None else None
    if picture is not None:
        from neuralab.viz.attention_plots import plot_attention

        save_figure(plot_attention(picture["tokens"], picture["weights"], entropy=picture["entropy"],
                                   title="attention per layer and head on the start of the dev text"),
                    folder / "attention.png")
        pictures.append(("attention per layer (rows) and head (columns) on dev text", "attention.png"))
    curve = diagnosis.learning_curve
    if curve is not None:
        save_figure(plot_learning_curve(curve.n_train, curve.train_error, curve.dev_error,
                                        optimal_error=diagnosis.bias_variance.optimal_error,
                                        train_dev_error=curve.train_dev_error), folder / "learning_curve.png")
        pictures.append(("learning curve", "learning_curve.png"))
    return pictures


def report_markdown(diagnosis: Diagnosis, pictures: Sequence[tuple[str, str]] = ()) -> str:
    """The report as Markdown: verdicts, numbers, per-layer health, advice and pictures."""
    from neuralab.doctor.advice import advice_lines
    from neuralab.doctor.curves import error_format

    bv, shown = diagnosis.bias_variance, _shown(error_format(diagnosis.task))
    summary = diagnosis.summary
    language_model = summary.get("data_kind") == "text" and "dev_perplexity" in summary
    headline = (f"**language model** — dev loss {summary['dev_loss']:.4g} nats per token (perplexity "
                f"{summary['dev_perplexity']:.3g}, {summary['dev_bits_per_character']:.3f} bits per character; "
                f"uniform guess ln V = {summary['uniform_loss']:.3g}); next-token errors are not judged against an "
                "optimal error" if language_model else f"**{bv.verdict}** — {bv.explanation}")
    lines = [f"# Diagnosis of {diagnosis.run_name}", "", headline, ""]
    unit = " (MSE of the standardised target)" if diagnosis.task == "regression" else ""
    lines += [markdown_table([f"train error{unit}", "dev error", "optimal error", "avoidable bias", "variance"],
                             [[shown(bv.train_error), shown(bv.dev_error), shown(bv.optimal_error),
                               shown(bv.avoidable_bias), shown(bv.variance)]]), ""]
    lines += [] if language_model else [f"Optimal error: {diagnosis.optimal_source}.", ""]
    if diagnosis.penalty_note:
        lines += [diagnosis.penalty_note[0].upper() + diagnosis.penalty_note[1:] + ".", ""]
    if diagnosis.baselines:
        lines += ["## Classical baselines on the same split", "", markdown_table(
            ["model", "train error", "dev error", "test error"],
            [["network", shown(bv.train_error), shown(bv.dev_error), shown(diagnosis.summary.get("test_error"))]]
            + [[b.name, shown(b.train_error), shown(b.dev_error), shown(b.test_error)] for b in diagnosis.baselines]),
            ""]
        lines += [f"**Classical ML does better here**: {b.name} reaches a dev error of {shown(b.dev_error)} against "
                  f"the network's {shown(bv.dev_error)}." for b in diagnosis.baselines_ahead]
        lines += [""] if diagnosis.baselines_ahead else []
    if diagnosis.diverged:
        lines += ["## Diverged", "", f"The loss became NaN/inf; the last finite weights were kept. "
                  f"Likely cause: {diagnosis.divergence_cause}.", ""]
    if diagnosis.sequence is not None:
        lines += sequence_markdown(diagnosis.sequence)
    if diagnosis.transformer is not None:
        from neuralab.doctor.transformer_checks import transformer_markdown

        lines += transformer_markdown(diagnosis.transformer)
    if diagnosis.layers:
        lines += ["## Layers", "", markdown_table(
            ["layer", "activation", "verdicts", "relative gradient", "update/weight", "dead", "saturated", "symmetric"],
            [[layer.name, layer.activation or "—", ", ".join(layer.verdicts), _sci(layer.stats["relative_gradient"]),
              _sci(layer.stats["update_ratio"]), _pct(layer.stats["dead_fraction"]),
              _pct(layer.stats["saturated_fraction"]), _pct(layer.stats["symmetric_fraction"])]
             for layer in diagnosis.layers]), ""]
        for verdict, names, cause, cure in diagnosis.grouped_findings():
            lines.append(f"- **{verdict}** in {', '.join(names)} — {cause}. Cure: {cure}.")
        every = f", every {diagnosis.health_every} steps" if diagnosis.health_every else ""
        lines += ["", f"Layer verdicts from {diagnosis.health_samples} health samples{every}.", ""]
    else:
        lines += ["No gradient health was recorded for this run (`diagnose.health_every` was 0).", ""]
    if diagnosis.learning_curve is not None:
        curve = diagnosis.learning_curve
        lines += ["## Learning curve", "", markdown_table(
            ["training rows", "train error", "dev error"],
            [[n, shown(t), shown(d)] for n, t, d in zip(curve.n_train, curve.train_error, curve.dev_error)]),
            "", curve.judgement, ""]
    lines += ["## Advice", ""]
    lines += advice_lines(diagnosis.advice) or ["Nothing to change."]
    lines.append("")
    for sample in diagnosis.samples:
        lines += [f"## Sample after epoch {sample['epoch']} (dev loss {_sci(sample.get('dev_loss'))}, "
                  f"temperature {sample.get('temperature')})", "", "```", sample["text"], "```", ""]
    for caption, name in pictures:
        lines += [f"![{caption}]({name})", ""]
    return "\n".join(lines)


def sequence_markdown(sequence) -> list[str]:
    """The "Through time" section: the gradient ratio, the baseline, the verdicts with cause and cure."""
    lines = ["## Through time", "", markdown_table(
        ["cell", "T", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ (start → end)", "dev loss", "memoryless baseline", "first loss",
         "clip rate"],
        [[sequence.cell, sequence.sequence_length,
          f"{_sci(sequence.gradient_ratio_start)} → {_sci(sequence.gradient_ratio)}", _sci(sequence.dev_loss),
          _sci(sequence.baseline_loss), _sci(sequence.initial_loss) + (
              f" (ln K = {sequence.expected_initial_loss:.3g})" if sequence.expected_initial_loss else ""),
          _pct(sequence.clip_rate)]]), ""]
    lines += [f"- **{f.verdict}** — {f.cause}. Cure: {f.cure}." for f in sequence.findings] or \
        ["The gradient reaches back through time and the loss is well below the memoryless baseline."]
    return lines + [""]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-style Markdown table."""
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(out)


def _shown(fmt):
    """A formatter that shows a missing or non-finite value as a dash."""
    return lambda value: "—" if value is None or not math.isfinite(value) else fmt(value)


def _pct(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.1%}"


def _sci(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2g}"
