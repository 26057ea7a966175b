"""Make the README's sequence pictures from real runs (run from the repository root):

    .venv/bin/python scripts/sequence_figures.py RNN_RUN LSTM_RUN SHAKESPEARE_RUN

writes docs/rnn_vs_lstm.png (the gradient through time of both cells on the adding problem, at
the start, the middle and the end of training) and docs/shakespeare_sample.png (the last text
sample of the language model).
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

from matplotlib.figure import Figure

import neuralab
from neuralab.viz.sequence_plots import plot_gradient_through_time, plot_text_sample

DOCS = Path(__file__).resolve().parents[1] / "docs"


def save(figure: Figure, name: str) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=100, format="png")
    (DOCS / name).write_bytes(buffer.getvalue())
    print("wrote", DOCS / name)


def main(rnn_dir: str, lstm_dir: str, text_dir: str) -> None:
    figure = Figure(figsize=(12, 4))
    panels = figure.subplots(1, 2, sharey=True)
    for axes, folder in zip(panels, (rnn_dir, lstm_dir)):
        run = neuralab.load_run(folder)
        probes = run.health["through_time"]
        chosen = [("start", probes[0]), ("middle", probes[len(probes) // 2]), ("end", probes[-1])]
        curves = [(f"{label}: step {probe['step']}", probe["norms"][0]) for label, probe in chosen]
        plot_gradient_through_time(curves, axes=axes, title=f"{run.spec.model.kind} on the adding problem "
                                   f"(T = {run.summary['sequence_length']})\ntest MSE {run.summary['test_loss']:.3g}, "
                                   f"memoryless baseline {run.summary['baseline_loss']:.3f}")
    figure.tight_layout()
    save(figure, "rnn_vs_lstm.png")
    run = neuralab.load_run(text_dir)
    sample = run.samples[-1]
    save(plot_text_sample(sample["text"], title=f"{run.spec.name}: sample after epoch {sample['epoch']} "
                                                f"(dev loss {sample['dev_loss']:.3f} nats/char, temperature "
                                                f"{sample['temperature']})"), "shakespeare_sample.png")


if __name__ == "__main__":
    main(*sys.argv[1:4])
