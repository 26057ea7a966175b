"""Recurrent networks: neuralab against a hand-written torch.nn.LSTM loop and Keras 3, side by side, as ratios.

    .venv/bin/python benchmarks/bench_sequences.py [--problems adding,shakespeare] [--repeats 2] [--busy] [--no-keras]
                                                   [--threads 1,2] [--out FILE]

Problems (same network, data, split, batches, optimiser, clipping and epochs for every contender):
  adding       T = 100, LSTM 32 units, 6,000 training sequences, batch 64, Adam 1e-2, clip 1, 1 epoch
  shakespeare  the first 200,000 characters, T = 100, LSTM 2 × 128 (embedding 32), batch 32, Adam 3e-3, clip 5, 1 epoch
Prints time steps (characters) per second and the ratio to the best hand-written loop, and
writes the table to benchmarks/results/sequences[-busy].md. ``--busy`` keeps one core busy
with another process (``python -c "while True: pass"``) while measuring, as a shared machine
often is. Contenders run round-robin (one run each per round, best of the rounds).
On a CUDA machine the same script times cuDNN (``--device cuda``).
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import contenders  # noqa: E402
import sequence_contenders  # noqa: E402
from peers import run_round_robin  # noqa: E402

import neuralab  # noqa: E402
from neuralab.data import load_data  # noqa: E402

PROBLEMS = {
    "adding": {"data": {"dataset": "adding", "n_samples": 10_000, "sequence_length": 100},
               "network": {"hidden": 32, "layers": 1, "embedding": 32},
               "train": {"epochs": 1, "batch_size": 64, "learning_rate": 0.01, "clip": 1.0}},
    "shakespeare": {"data": {"dataset": "shakespeare", "max_characters": 200_000, "sequence_length": 100},
                    "network": {"hidden": 128, "layers": 2, "embedding": 32},
                    "train": {"epochs": 1, "batch_size": 32, "learning_rate": 0.003, "clip": 5.0}},
}


def spec_of(name: str, device: str):
    problem = PROBLEMS[name]
    network, train = problem["network"], problem["train"]
    return neuralab.load_spec({
        "name": f"bench-{name}", "data": problem["data"],
        "model": {"kind": "lstm", "recurrent": {"hidden_size": network["hidden"], "layers": network["layers"],
                                                "embedding_size": network["embedding"]}},
        "train": {"optimizer": "adam", "learning_rate": train["learning_rate"], "batch_size": train["batch_size"],
                  "epochs": train["epochs"], "grad_clip": train["clip"], "device": device}})


def run_problem(name: str, *, repeats: int, with_keras: bool, device: str,
                thread_counts: list[int]) -> tuple[list[dict], int]:
    spec = spec_of(name, device)
    data = load_data(spec.data, seed=spec.seed)
    settings = {**PROBLEMS[name]["network"], **PROBLEMS[name]["train"]}
    loss = lambda summary: summary["test_loss"]  # noqa: E731
    threads = max(1, torch.get_num_threads())
    plan = []
    for count in thread_counts:
        plan.append((f"hand loop, nn.LSTM ({count} thr)",
                     lambda: sequence_contenders.hand_lstm_loop(data, **settings), count))
    if with_keras:
        plan.append(("Keras 3 (torch backend)", lambda: sequence_contenders.keras_lstm(data, **settings), 1))
    epochs = settings["epochs"]
    same_work = {"diagnose.health_every": 0, "diagnose.text_samples": 0, "train.eval_every": epochs + 1}
    variants = [("defaults: dev scored, doctor recording, text samples", None), ("same work as the hand loop", same_work)]
    variants += [(f"same work, {count} threads", {**same_work, "train.threads": count}) for count in thread_counts
                 if count > 1]
    for label, overrides in variants:
        plan.append((f"neuralab API ({label})", lambda o=overrides: contenders.neuralab_api(spec, o, score=loss),
                     threads))
    rows = run_round_robin(plan, repeats=repeats)
    steps = data.x_train.shape[0] * data.x_train.shape[1] * epochs  # time steps (characters) trained on
    best = min(r["seconds"] for r in rows if r["contender"].startswith("hand loop") and "seconds" in r)
    for row in rows:
        if "seconds" in row:
            row["steps_per_second"] = steps / row["seconds"]
            row["ratio"] = row["seconds"] / best
        if row["contender"].startswith("neuralab") and "threads" in row:
            row["threads"] = int(row["contender"].split(", ")[-1].split()[0]) if " threads)" in row["contender"] \
                else neuralab_threads(spec)
    return rows, steps


def neuralab_threads(spec) -> int:
    from neuralab.training.experiment import Experiment

    return Experiment.from_spec(spec).threads


def render(name: str, rows: list[dict], steps: int) -> str:
    unit = "characters" if name == "shakespeare" else "time steps"
    lines = [f"### {name} ({steps:,} {unit} per run)", "",
             f"| contender | threads | seconds | {unit}/s | time ÷ best hand loop | test loss |", "|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['contender']} | — | — | — | — | not run: {row['error']} |")
            continue
        lines.append(f"| {row['contender']} | {row['threads']} | {row['seconds']:.2f} | {row['steps_per_second']:,.0f} "
                     f"| {row['ratio']:.2f}× | {row['accuracy']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="adding,shakespeare")
    parser.add_argument("--repeats", type=int, default=2, help="round-robin rounds; each contender's best counts")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", default=None, help="CPU thread counts to time the loops with (default: 1 and all)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        with open("/proc/loadavg") as handle:
            load = handle.read().split()[:3]
        header = [f"# LSTMs: neuralab vs peers — {time.strftime('%Y-%m-%d %H:%M')}"
                  f"{' (one core kept busy)' if args.busy else ''}", "",
                  f"Machine: {platform.machine()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}, "
                  f"device {args.device}; load average at the start {' '.join(load)}. Seconds are training time, "
                  "best of the round-robin rounds.", ""]
        sections = []
        for name in args.problems.split(","):
            counts = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, torch.get_num_threads()})
            rows, steps = run_problem(name, repeats=args.repeats, with_keras=not args.no_keras, device=args.device,
                                      thread_counts=counts)
            sections.append(render(name, rows, steps))
            print(sections[-1] + "\n", flush=True)
    finally:
        if busy is not None:
            busy.kill()
    out = Path(args.out or Path(__file__).parent / "results" / f"sequences{'-busy' if args.busy else ''}.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header) + "\n" + "\n\n".join(sections) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
