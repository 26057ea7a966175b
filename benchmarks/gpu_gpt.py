"""nanoGPT's GPU recipe on a CUDA machine: examples/shakespeare-char-gpu.yaml to dev loss ≤ 1.47, with its wall time.

    .venv/bin/python benchmarks/gpu_gpt.py            # on a CUDA GPU (nanoGPT: ~3 minutes on an A100)
    .venv/bin/python benchmarks/gpu_gpt.py --quick    # a smoke run of the script itself, anywhere (tiny, CPU)

Trains the recipe (6 layers, 6 heads, 384 wide, context 256, batch 64, 5,000 steps, dropout 0.2,
AdamW, warm-up + cosine, bf16 autocast) with ``train.device: cuda``, then prints the final dev
loss of the whole dev split against nanoGPT's 1.4697, the wall time, tokens/s and the achieved
GFLOP/s as a share of the card's float32 and bf16 matmul peaks (6·N per token for the weights,
12·L·T·C for attention). Writes the table to benchmarks/results/gpu_gpt.md.
"""
from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import torch

import neuralab
from neuralab.runs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
NANOGPT_DEV_LOSS = 1.4697


def matmul_peak(device: str, dtype: torch.dtype, size: int = 8192) -> float:
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    return 10 * 2 * size ** 3 / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny version on the CPU: checks the script runs")
    args = parser.parse_args()
    overrides = {"train.device": "cpu", "train.max_steps": 4, "train.eval_every": 2, "train.eval_batches": 1,
                 "train.batch_size": 4, "data.max_characters": 20_000, "data.sequence_length": 32,
                 "model.transformer": {"layers": 1, "heads": 2, "embed_dim": 32}, "train.autocast": "off",
                 "diagnose.text_samples": 0} if args.quick else {"train.device": "cuda"}
    if not args.quick and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run this where a GPU is lent (or --quick for a smoke run)")
    spec = neuralab.load_spec(ROOT / "examples" / "shakespeare-char-gpu.yaml", overrides=overrides)
    started = time.perf_counter()
    run = neuralab.train(spec, out_dir=ROOT / "runs")
    wall = time.perf_counter() - started
    settings, summary = spec.model.transformer, run.summary
    tokens = spec.train.max_steps * spec.train.batch_size * spec.data.sequence_length
    per_token = 6 * (settings.layers * 12 * settings.embed_dim ** 2 + summary["vocab_size"] * settings.embed_dim) \
        + 12 * settings.layers * spec.data.sequence_length * settings.embed_dim
    training = sum(row["seconds"] for row in run.history)
    gflops = per_token * tokens / training / 1e9
    device = torch.cuda.get_device_name() if torch.cuda.is_available() and not args.quick else "cpu (--quick)"
    peaks = (f"{gflops / matmul_peak('cuda', torch.float32) * 100:.0f} % of float32, "
             f"{gflops / matmul_peak('cuda', torch.bfloat16) * 100:.0f} % of bf16 matmul peak"
             if device != "cpu (--quick)" else "—")
    verdict = "reaches" if summary["dev_loss"] <= NANOGPT_DEV_LOSS + 0.005 else "misses"
    lines = [f"# nanoGPT's GPU recipe, {datetime.date.today()}, {device}", "",
             "| dev loss | nanoGPT | steps | wall time | training time | tokens/s | GFLOP/s |", "|---|---|---|---|---|---|---|",
             f"| {summary['dev_loss']:.4f} ({verdict}) | {NANOGPT_DEV_LOSS} | {summary['steps']} | {wall:.0f} s | "
             f"{training:.0f} s | {tokens / training:,.0f} | {gflops:,.0f} ({peaks}) |", "", f"run: {run.dir}"]
    print("\n".join(lines))
    if not args.quick:
        write_text_atomic(ROOT / "benchmarks" / "results" / "gpu_gpt.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
