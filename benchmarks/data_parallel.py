"""Data-parallel training on CPU: the 200,000 × 100 set on 1 process against 2 (torchrun, gloo).

    .venv/bin/python benchmarks/data_parallel.py [--samples 200000] [--epochs 3] [--rounds 2] [--busy]

Trains the synthetic problem of ``peers.py`` (200,000 × 100, 10 classes, MLP 100-512-512-10,
Adam, global batch 256) with ``neuralab train`` as a user would:
  1 process, all threads   neuralab's own choice (every CPU thread for a model this size)
  1 process, 1 thread      what each of the data-parallel processes gets on this machine
  2 processes (--nproc 2)  DistributedDataParallel over gloo, cpu_count // 2 threads each
Contenders run round-robin (best of ``--rounds``); the table shows the training time (the
epochs' own seconds from metrics.csv: the same work in every row), the whole command's
wall time (start-up, data, processes, run directory) and the ratio to one process.
``--busy`` keeps one core busy with another process (``python -c "while True: pass"``)
while measuring, as a shared machine would.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from peers import PROBLEMS, synthetic_spec  # noqa: E402

from neuralab.spec import dump_spec, load_spec  # noqa: E402

CONTENDERS = {
    "1 process, all threads": ([], {}),
    "1 process, 1 thread": ([], {"train.threads": 1}),
    "2 processes (--nproc 2)": (["--nproc", "2"], {}),
}


def train_once(spec_file: Path, out: Path, arguments: list[str]) -> tuple[float, float, float, int]:
    """Run `neuralab train` once; returns (training seconds, wall seconds, test accuracy, training rows)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "neuralab", "train", str(spec_file), "--out", str(out), "-q", *arguments],
                   check=True, capture_output=True, timeout=3600)
    wall = time.perf_counter() - started
    [run] = [p for p in out.iterdir() if p.is_dir()]
    with open(run / "metrics.csv", newline="") as handle:
        training = sum(float(row["seconds"]) for row in csv.DictReader(handle))
    summary = json.loads((run / "summary.json").read_text())
    return training, wall, 1 - summary["test_error"], summary["n_train"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process")
    args = parser.parse_args()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory() as folder:
            base = synthetic_spec({**PROBLEMS["synthetic"], "epochs": args.epochs}, Path(folder), args.samples)
            specs = {}
            for label, (_, overrides) in CONTENDERS.items():
                specs[label] = Path(folder) / f"{len(specs)}.yaml"
                specs[label].write_text(dump_spec(load_spec(base, overrides={"diagnose.health_every": 0, **overrides})))
            results: dict[str, list[tuple[float, float, float, int]]] = {label: [] for label in CONTENDERS}
            for round_number in range(args.rounds):
                for label, (arguments, _) in CONTENDERS.items():
                    out = Path(folder) / f"runs-{round_number}-{len(results[label])}-{abs(hash(label))}"
                    results[label].append(train_once(specs[label], out, arguments))
    finally:
        if busy is not None:
            busy.kill()
    best = {label: min(runs) for label, runs in results.items()}
    reference = best["1 process, all threads"]
    print(f"{args.samples:,} × 100, MLP 100-512-512-10, batch 256, {args.epochs} epochs; {os.cpu_count()} CPUs; "
          f"{'one core busy' if args.busy else 'idle'}; best of {args.rounds}")
    print("| contender | training s | samples/s | ÷ 1 process | wall s | test accuracy |")
    print("|---|---|---|---|---|---|")
    for label, (training, wall, accuracy, n_train) in best.items():
        print(f"| {label} | {training:.2f} | {n_train * args.epochs / training:,.0f} | "
              f"{training / reference[0]:.2f}× | {wall:.1f} | {accuracy:.4f} |")


if __name__ == "__main__":
    main()
