"""GPU check: neuralab on CUDA against the card's measured matmul peak (run where a GPU is lent).

    .venv/bin/python benchmarks/gpu.py [--samples 200000] [--epochs 3]

Trains the synthetic 200,000 × 100, 10-class problem (MLP 100-512-512-10, Adam, batch 256)
with ``train.device: cuda``, reports samples/s, achieved GFLOP/s as a fraction of a float32
matmul's, and how many host synchronisations one epoch's steps caused (torch's sync debug
mode counts them: the data live on the GPU, so only the every-50-steps divergence check
should read back).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from peers import PROBLEMS, flops_per_sample, synthetic_spec  # noqa: E402

import neuralab  # noqa: E402


def cuda_matmul_peak(size: int = 8192) -> float:
    a, b = torch.randn(size, size, device="cuda"), torch.randn(size, size, device="cuda")
    a @ b
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    return 10 * 2 * size ** 3 / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: run this where a GPU is lent")
    peak = cuda_matmul_peak()
    settings = {**PROBLEMS["synthetic"], "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as folder:
        spec = synthetic_spec(settings, Path(folder), args.samples)
        spec = neuralab.load_spec(spec, overrides={"train.device": "cuda", "diagnose.health_every": 0})
        neuralab.train(spec, out_dir=None, overrides={"train.epochs": 1})  # warm-up: kernels, allocator
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as syncs:
            warnings.simplefilter("always")
            run = neuralab.train(spec, out_dir=None)
        torch.cuda.set_sync_debug_mode("default")
    seconds = sum(row["seconds"] for row in run.history)
    samples = run.summary["n_train"] * args.epochs
    gflops = flops_per_sample(100, settings["hidden"], 10) * samples / seconds / 1e9
    print(f"device: {torch.cuda.get_device_name()}  float32 matmul peak {peak:,.0f} GFLOP/s")
    print(f"neuralab: {samples / seconds:,.0f} samples/s, {gflops:,.0f} GFLOP/s = {100 * gflops / peak:.1f} % of peak, "
          f"test accuracy {1 - run.summary['test_error']:.4f}")
    print(f"host synchronisations while training: {len(syncs)} "
          f"(for {run.summary['n_train'] // 256 * args.epochs} steps)")


if __name__ == "__main__":
    main()
