"""GPU check in one short script: neuralab on CUDA against the card's measured matmul peak.

    .venv/bin/python benchmarks/gpu.py                 # on a machine with a CUDA GPU (about 5 minutes)
    .venv/bin/python benchmarks/gpu.py --device cpu --quick   # a smoke run of the script itself, anywhere

Workloads (each warmed up with one epoch first, then timed; ``train.device: cuda``):
  digits MLP          1,797 × 64, MLP 64-128-128-10, Adam, batch 64, 50 epochs (peers.py's digits)
  200k MLP            200,000 × 100, MLP 100-512-512-10, Adam, batch 256, 3 epochs (peers.py's synthetic)
  population of 32    32 digits MLPs (learning rates 1e-4 … 0.3) trained as one stacked population, 20 epochs
  LSTM                a character model on tiny Shakespeare, 2 × 512 units, windows of 100, batch 64, 1 epoch
                      (when the lstm kind is registered)
  small transformer   the transformer kind's defaults on tiny Shakespeare, windows of 128, batch 64, 1 epoch
                      (when the transformer kind is registered)
For each: samples/s, achieved GFLOP/s and its share of a float32 matmul's peak on this card
(training FLOPs per row counted once with torch's FlopCounterMode on the CPU: forward,
loss and backward of one batch), and the host synchronisations of the timed run (torch's
sync debug mode: with the data on the GPU only the loss checks every 50 steps, the epoch's
metrics and the dev scoring should read back). Prints a Markdown table and writes it, with
the date and the card, to benchmarks/results/gpu.md. A workload that fails is reported in
its row, not fatal. Data-parallel training on GPUs (NCCL) needs two cards: not measured here.
"""
from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from peers import PROBLEMS, digits_spec, synthetic_spec  # noqa: E402
from population import make_specs  # noqa: E402

import neuralab  # noqa: E402
from neuralab.spec.catalog import names  # noqa: E402
from neuralab.training.experiment import Experiment  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "gpu.md"


def matmul_peak_gflops(device: str, size: int = 8192) -> float:
    """Best of 10 float32 square matmuls (TF32 off, torch's default), in GFLOP/s."""
    size = size if device == "cuda" else 2048
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(11):
        _synchronize(device)
        started = time.perf_counter()
        a @ b
        _synchronize(device)
        best = min(best, time.perf_counter() - started)
    return 2 * size ** 3 / best / 1e9


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def training_flops_per_row(spec) -> float:
    """FLOPs of one training step per row (forward, loss, backward), counted on the CPU with one batch."""
    experiment = Experiment.from_spec(spec, device="cpu")
    inputs, targets = experiment.splits["train"]
    rows = min(len(inputs), spec.train.batch_size if spec.train.batch_size != "full" else len(inputs), 256)
    counter = FlopCounterMode(display=False)
    with counter:
        loss = experiment.head.compute_loss(experiment.model(inputs[:rows]), targets[:rows])
        loss.backward()
    return counter.get_total_flops() / rows


def timed(train, device: str) -> tuple[float, int, object]:
    """Run ``train()`` once; returns (seconds, host synchronisations — counted on a GPU only —, its result)."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            result = train()
            _synchronize(device)
            seconds = time.perf_counter() - started
    finally:
        if device == "cuda":
            torch.cuda.set_sync_debug_mode("default")
    syncs = sum("synchroniz" in str(w.message).lower() for w in caught) if device == "cuda" else 0
    return seconds, syncs, result


def workloads(folder: Path, *, device: str, quick: bool) -> dict[str, dict]:
    """Each workload: its specs (one, or a population's) and whether they train as a population."""
    common = {"train.device": device, "diagnose.health_every": 0}
    digits = {**PROBLEMS["digits"], "epochs": 5 if quick else 50}
    synthetic = {**PROBLEMS["synthetic"], "epochs": 1 if quick else 3}
    found = {
        "digits MLP 64-128-128-10": {"specs": [neuralab.load_spec(digits_spec(digits), overrides=common)]},
        "200k MLP 100-512-512-10": {"specs": [neuralab.load_spec(
            synthetic_spec(synthetic, folder, 5_000 if quick else 200_000), overrides=common)]},
        "population of 32 digits MLPs": {"specs": [neuralab.load_spec(s, overrides=common) for s in
                                                   make_specs("digits", 4 if quick else 32, 2 if quick else 20)],
                                         "population": True},
    }
    kinds = names("model_kinds")
    text = {"dataset": "adding", "n_samples": 400, "sequence_length": 20} if quick else \
        {"dataset": "shakespeare", "sequence_length": 100}
    if "lstm" in kinds:
        found["LSTM 2 × 512, chars"] = {"spec": {
            "name": "gpu-lstm", "data": text,
            "model": {"kind": "lstm", "recurrent": {"hidden_size": 32 if quick else 512, "layers": 2,
                                                    "embedding_size": 64}},
            "train": {"optimizer": "adam", "learning_rate": 0.002, "batch_size": 64, "epochs": 1}}}
    if "transformer" in kinds:
        found["small transformer, chars"] = {"spec": {
            "name": "gpu-transformer", "data": {**text, "sequence_length": 20 if quick else 128},
            "model": {"kind": "transformer"},
            "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "epochs": 1}}}
    for settings in found.values():
        if "spec" in settings:
            try:
                settings["specs"] = [neuralab.load_spec(settings.pop("spec"), overrides=common)]
            except neuralab.NeuralabError as error:
                settings["error"] = "; ".join(error.problems)[:120]
    return found


def measure(label: str, settings: dict, *, device: str, peak: float) -> dict:
    row = {"workload": label}
    if "error" in settings:
        return {**row, "error": settings["error"]}
    specs = settings["specs"]
    try:
        flops_per_row = training_flops_per_row(specs[0])
    except Exception:  # a model the counter cannot trace: time it all the same
        flops_per_row = float("nan")
    try:
        warm = [neuralab.load_spec(spec, overrides={"train.epochs": 1}) for spec in specs]
        if settings.get("population"):
            neuralab.train_many(warm, out_dir=None)
            seconds, syncs, runs = timed(lambda: neuralab.train_many(specs, out_dir=None), device)
        else:
            neuralab.train(warm[0], out_dir=None)
            seconds, syncs, run = timed(lambda: neuralab.train(specs[0], out_dir=None), device)
            runs = [run]
            seconds = sum(r["seconds"] for r in run.history)  # the epochs' own time: no data loading
    except Exception as error:  # a workload that does not run here is reported, not fatal
        return {**row, "error": f"{type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''}"}
    samples = sum(run.summary["n_train"] * run.summary["epochs_run"] for run in runs)
    gflops = flops_per_row * samples / seconds / 1e9
    return {**row, "seconds": seconds, "samples_per_second": samples / seconds, "gflops": gflops,
            "peak_share": gflops / peak, "syncs": syncs, "test_error": min(run.summary["test_error"] for run in runs)}


def table(rows: list[dict], *, device_name: str, peak: float) -> str:
    lines = [f"{datetime.date.today().isoformat()} · {device_name} · float32 matmul peak {peak:,.0f} GFLOP/s · "
             f"torch {torch.__version__}", "",
             "| workload | training s | samples/s | GFLOP/s | % of peak | host syncs | best test error |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['workload']} | not run: {row['error']} | | | | | |")
        else:
            lines.append(f"| {row['workload']} | {row['seconds']:.2f} | {row['samples_per_second']:,.0f} | "
                         f"{row['gflops']:,.0f} | {100 * row['peak_share']:.1f} % | {row['syncs']} | "
                         f"{row['test_error']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device: run this where a GPU is lent (or --device cpu --quick to check the script)")
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    peak = matmul_peak_gflops(args.device)
    with tempfile.TemporaryDirectory() as folder:
        found = workloads(Path(folder), device=args.device, quick=args.quick)
        rows = [measure(label, settings, device=args.device, peak=peak) for label, settings in found.items()]
    text = table(rows, device_name=device_name, peak=peak)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
