"""Many models at once: K learning rates on one problem, batched vs one after another.

    .venv/bin/python benchmarks/population.py [--models 32] [--problem digits|spiral] [--epochs 20]

Runs (after a warm-up of each path, so imports are not counted), all in this one process:
  sequential      K × neuralab.train (neuralab's own thread choice for the model's size)
  batched, 1 proc neuralab.train_many(workers=1): one population in this process
  batched, auto   neuralab.train_many(): split across one worker process per CPU thread when
                  the work is big enough (what `neuralab sweep` and `neuralab tune` do)
and prints each time, the speed-up over sequential, how many models end with the same
test accuracy as alone, and the floor: the FLOPs of the whole job at this machine's
measured matmul peak — the fastest any implementation could go.
"""
from __future__ import annotations

import argparse
import time

import torch

import neuralab
from neuralab.data import load_data

PROBLEMS = {"digits": {"data": {"dataset": "digits"}, "model": {"hidden": [128, 128]}},
            "spiral": {"data": {"dataset": "spiral", "noise": 0.1}, "model": {"hidden": [8, 8]}}}


def make_specs(problem: str, models: int, epochs: int) -> list:
    base = {**PROBLEMS[problem], "train": {"epochs": epochs, "batch_size": 64}, "diagnose": {"health_every": 0}}
    rates = [10 ** (-4 + 3.5 * i / max(models - 1, 1)) for i in range(models)]
    return [neuralab.load_spec(base, overrides={"train.learning_rate": rate}) for rate in rates]


def accuracies(runs) -> list[float]:
    return [1 - run.summary["test_error"] for run in runs]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def floor_seconds(specs: list, peak_gflops: float) -> float:
    """Seconds the job's matrix products need at the matmul peak: training (3× forward) plus dev scoring."""
    data = load_data(specs[0].data, seed=specs[0].seed)
    widths = [data.n_features, *specs[0].model.hidden, len(data.classes)]
    forward = 2 * sum(a * b for a, b in zip(widths, widths[1:]))  # FLOPs per row
    per_model = specs[0].train.epochs * (3 * forward * len(data.y_train) + forward * len(data.y_dev))
    return per_model * len(specs) / (peak_gflops * 1e9)


def matmul_peak_gflops(size: int = 2048) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    return max(2 * size ** 3 / timed(lambda: a @ b)[0] / 1e9 for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=32)
    parser.add_argument("--problem", choices=sorted(PROBLEMS), default="digits")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    specs = make_specs(args.problem, args.models, args.epochs)
    warm = make_specs(args.problem, 2, 1)
    neuralab.train_many(warm, workers=1), neuralab.train_many(warm), [neuralab.train(s, out_dir=None) for s in warm]

    sequential_s, sequential = timed(lambda: accuracies([neuralab.train(s, out_dir=None) for s in specs]))
    one_s, one = timed(lambda: accuracies(neuralab.train_many(specs, workers=1)))
    auto_s, auto = timed(lambda: accuracies(neuralab.train_many(specs)))
    peak = matmul_peak_gflops()
    floor = floor_seconds(specs, peak)
    print(f"{args.models} {args.problem} models × {args.epochs} epochs, learning rates 1e-4 … 10^-0.5, "
          f"{torch.get_num_threads()} CPU threads, matmul peak {peak:.0f} GFLOP/s")
    print(f"{'path':<34}{'seconds':>9}{'speed-up':>10}{'same accuracy (±0.005)':>24}")
    for name, seconds, accs in (("sequential (neuralab.train × K)", sequential_s, sequential),
                                ("batched, 1 process", one_s, one),
                                ("batched, auto (workers)", auto_s, auto)):
        same = sum(abs(a - b) <= 0.005 for a, b in zip(accs, sequential))
        print(f"{name:<34}{seconds:>9.2f}{sequential_s / seconds:>9.1f}×{f'{same}/{len(accs)} models':>24}")
    print(f"{'floor: all FLOPs at matmul peak':<34}{floor:>9.2f}{sequential_s / floor:>9.1f}×")
    print("Models whose rate is in the chaotic regime (loss exploding) amplify float rounding, so they\n"
          "may end elsewhere; every stable model matches training alone.")


if __name__ == "__main__":
    main()
