"""What gradient/activation health recording costs: training time with and without it, as a ratio.

    .venv/bin/python benchmarks/bench_recording.py [--epochs 100] [--repeats 7] [--every 100]

Trains the same digits MLP (64-128-128-10 ReLU, Adam, batch 64, one CPU thread) with
``diagnose.health_every`` = 0 (off) and = ``--every`` (the default 100), alternating the two
so drift in the machine's speed hits both alike, and prints the best CPU seconds of each and
the median of the paired ratios. The doctor's budget is a ratio ≤ 1.05 (≤ 5 % extra) at the default sampling.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import neuralab
from neuralab.spec import DiagnoseSpec

BUDGET = 1.05


def spec_for(*, epochs: int, every: int):
    return neuralab.load_spec({
        "name": "bench-recording", "data": {"dataset": "digits"},
        "model": {"hidden": [128, 128], "activation": "relu", "init": "he_normal"},
        "train": {"optimizer": "adam", "learning_rate": 1e-3, "epochs": epochs, "batch_size": 64, "threads": 1},
        "diagnose": {"health_every": every},
    })


def seconds_to_train(spec) -> float:
    # CPU time of this process: other programs on the machine do not inflate it as they do wall time.
    started = time.process_time()
    neuralab.train(spec, out_dir=None)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--every", type=int, default=DiagnoseSpec().health_every,
                        help="steps between samples (default: the spec's default)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    off, on = spec_for(epochs=args.epochs, every=0), spec_for(epochs=args.epochs, every=args.every)
    seconds_to_train(spec_for(epochs=1, every=args.every))  # warm-up: imports, allocator, data cache
    times: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.repeats):
        times["off"].append(seconds_to_train(off))
        times["on"].append(seconds_to_train(on))
    best_off, best_on = min(times["off"]), min(times["on"])  # noise only ever adds time
    # Each on/off pair ran back to back: the median of their ratios cancels slow drifts in load.
    ratio = statistics.median(on / off for on, off in zip(times["on"], times["off"]))
    print(f"digits MLP 128-128, {args.epochs} epochs, batch 64, 1 thread, {args.repeats} pairs, CPU seconds")
    print(f"  recording off            {best_off:7.3f} s (best)")
    print(f"  recording every {args.every:>4} steps {best_on:7.3f} s (best)")
    print(f"  ratio of the bests       {best_on / best_off:7.3f}")
    print(f"  ratio on/off (median)    {ratio:7.3f}  ({'within' if ratio <= BUDGET else 'OVER'} the "
          f"{BUDGET:.2f} budget)")


if __name__ == "__main__":
    main()
