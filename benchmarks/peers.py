"""neuralab against the loops people would otherwise write, side by side, as ratios.

    make bench                       # installs the peers (Keras 3) and runs this
    .venv/bin/python benchmarks/peers.py [--quick] [--problems digits,synthetic] [--repeats 5] [--seeds 10]

Problems (same model, data, split, optimiser, batch size and epochs for every contender):
  digits     1,797 × 64, MLP 64-128-128-10 ReLU, Adam 1e-3, batch 64, 50 epochs
  synthetic  200,000 × 100, 10 classes (make_classification), MLP 100-512-512-10, batch 256, 3 epochs
Prints a table (samples/s, ratio to the best hand-written loop, test accuracy, GFLOP/s as a
fraction of this machine's measured matmul peak) and writes it to benchmarks/results/peers.md.
Contenders run round-robin (one run each per round, best of the rounds), so that a slow
spell of this shared machine hits them alike. On digits it also compares test accuracy
over several seeds, since one seed's accuracy differs between contenders by luck.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import contenders  # noqa: E402

import neuralab  # noqa: E402
from neuralab.data import load_data  # noqa: E402

PROBLEMS = {
    "digits": {"hidden": [128, 128], "epochs": 50, "batch_size": 64},
    "synthetic": {"hidden": [512, 512], "epochs": 3, "batch_size": 256},
}


def digits_spec(settings: dict):
    return neuralab.load_spec({"name": "bench-digits", "data": {"dataset": "digits"},
                               "model": {"hidden": settings["hidden"], "activation": "relu", "init": "he_normal"},
                               "train": {"optimizer": "adam", "learning_rate": 1e-3, "epochs": settings["epochs"],
                                         "batch_size": settings["batch_size"]}})


def synthetic_spec(settings: dict, folder: Path, n_samples: int):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n_samples, n_features=100, n_informative=60, n_redundant=10,
                               n_classes=10, n_clusters_per_class=2, random_state=0)
    table = {f"f{i}": x[:, i].astype(np.float32) for i in range(x.shape[1])} | {"target": y}
    path = folder / "synthetic.parquet"
    pq.write_table(pa.table(table), path)
    return neuralab.load_spec({"name": "bench-synthetic",
                               "data": {"dataset": "parquet", "path": str(path), "target": "target",
                                        "task": "classification"},
                               "model": {"hidden": settings["hidden"], "activation": "relu", "init": "he_normal"},
                               "train": {"optimizer": "adam", "learning_rate": 1e-3, "epochs": settings["epochs"],
                                         "batch_size": settings["batch_size"]}})


def matmul_peak_gflops(threads: int, size: int = 2048) -> float:
    """Best of 5 float32 square matmuls with `threads` threads, in GFLOP/s."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * size ** 3 / best / 1e9


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def flops_per_sample(n_inputs: int, hidden: list[int], n_classes: int) -> float:
    """Training FLOPs per sample: forward 2·Σ(in·out), backward twice that."""
    widths = [n_inputs, *hidden, n_classes]
    return 3 * 2 * sum(a * b for a, b in zip(widths, widths[1:]))


def run_problem(name: str, spec, *, repeats: int, with_keras: bool) -> list[dict]:
    settings = PROBLEMS[name]
    data = load_data(spec.data, seed=spec.seed)
    n_classes = int(data.y_train.max()) + 1
    kwargs = {"hidden": settings["hidden"], "epochs": settings["epochs"], "batch_size": settings["batch_size"]}
    threads = max(1, torch.get_num_threads())
    plan: list[tuple[str, object, int]] = []  # (label, run, threads), measured round-robin

    def measure(label: str, fn, thread_count: int):
        plan.append((label, fn, thread_count))

    for thread_count in sorted({1, threads}):
        measure(f"hand loop, fused Adam ({thread_count} thr)",
                lambda: contenders.hand_loop(data, fused=True, **kwargs), thread_count)
    measure("hand loop, default Adam", lambda: contenders.hand_loop(data, fused=False, **kwargs), 1)
    measure("DataLoader loop", lambda: contenders.dataloader_loop(data, **kwargs), 1)
    measure("scikit-learn MLPClassifier (float32)", lambda: contenders.sklearn_mlp(data, **kwargs), threads)
    measure("scikit-learn MLPClassifier (float64, as the data come)",
            lambda: contenders.sklearn_mlp(data, dtype=np.float64, **kwargs), threads)
    if with_keras:
        measure("Keras 3 (torch backend)", lambda: contenders.keras_fit(data, **kwargs), 1)
    epochs = settings["epochs"]
    for label, overrides in (("defaults: dev scored each epoch, doctor recording", None),
                             ("dev scored each epoch, no recording", {"diagnose.health_every": 0}),
                             ("hand loop's work + doctor recording", {"train.eval_every": epochs}),
                             ("same work as the hand loop", {"diagnose.health_every": 0, "train.eval_every": epochs})):
        measure(f"neuralab API ({label})", lambda o=overrides: contenders.neuralab_api(spec, o), threads)
    measure("neuralab (CLI, cold process)", lambda: contenders.neuralab_cli(spec), threads)
    rows = run_round_robin(plan, repeats=repeats)

    chosen = 1 if sum(a * b for a, b in zip([data.x_train.shape[1], *settings["hidden"]],
                                            [*settings["hidden"], n_classes])) < 20_000 else threads
    for row in rows:
        if row["contender"].startswith("neuralab") and "threads" in row:
            row["threads"] = chosen  # neuralab chooses its thread count by model size
    hand = [r["seconds"] for r in rows if r["contender"].startswith("hand loop, fused") and "seconds" in r]
    best_hand = min(hand)
    work = flops_per_sample(data.x_train.shape[1], settings["hidden"], n_classes)
    for row in rows:
        if "seconds" in row:
            samples = data.n_train * settings["epochs"]
            row["samples_per_second"] = samples / row["seconds"]
            row["time_vs_best_hand_loop"] = row["seconds"] / best_hand
            row["gflops"] = work * samples / row["seconds"] / 1e9
    return rows


def accuracy_over_seeds(spec, settings: dict, seeds: range) -> str:
    """Test accuracy of each contender over several seeds (split, initial weights, batch order).

    One seed's test accuracy differs between contenders by a few test rows of luck; the
    mean over seeds says whether one method is really more accurate. Seed ``s`` gives every
    contender the same split (neuralab's, for seed ``s``) and seeds its own randomness with ``s``.
    """
    kwargs = {"hidden": settings["hidden"], "epochs": settings["epochs"], "batch_size": settings["batch_size"]}
    runs: dict[str, list[float]] = {"hand loop, fused Adam": [], "scikit-learn MLPClassifier (float32)": [],
                                    "neuralab API (defaults)": [],
                                    "neuralab API (xavier_uniform init, as scikit-learn draws its weights)": []}
    for seed in seeds:
        data = load_data(spec.data, seed=seed)
        runs["hand loop, fused Adam"].append(contenders.hand_loop(data, fused=True, seed=seed, **kwargs)[1])
        runs["scikit-learn MLPClassifier (float32)"].append(contenders.sklearn_mlp(data, seed=seed, **kwargs)[1])
        runs["neuralab API (defaults)"].append(contenders.neuralab_api(spec, {"seed": seed})[1])
        runs["neuralab API (xavier_uniform init, as scikit-learn draws its weights)"].append(
            contenders.neuralab_api(spec, {"seed": seed, "model.init": "xavier_uniform"})[1])
    lines = [f"Test accuracy over seeds {seeds.start}–{seeds.stop - 1}:", "",
             "| contender | mean | std | min | max |", "|---|---|---|---|---|"]
    for label, values in runs.items():
        lines.append(f"| {label} | {np.mean(values):.4f} | {np.std(values):.4f} | {min(values):.4f} | {max(values):.4f} |")
    return "\n".join(lines)


def run_round_robin(plan: list[tuple[str, object, int]], *, repeats: int) -> list[dict]:
    """Run every contender once per round, ``repeats`` rounds; keep each one's best time.

    Round-robin rather than each contender's repeats back to back: on a shared machine a
    slow spell then hits every contender alike instead of one of them.
    """
    results: dict[str, list] = {label: [] for label, _, _ in plan}
    errors: dict[str, str] = {}
    for _ in range(repeats):
        for label, fn, thread_count in plan:
            if label in errors:
                continue
            torch.set_num_threads(thread_count)
            try:
                results[label].append(fn())
            except Exception as error:  # a peer that does not install or run is reported, not fatal
                errors[label] = str(error)[:80]
    rows = []
    for label, _, thread_count in plan:
        if label in errors:
            rows.append({"contender": label, "error": errors[label]})
        else:
            seconds, acc = min(results[label])
            rows.append({"contender": label, "threads": thread_count, "seconds": seconds, "accuracy": acc})
    return rows


def render(name: str, rows: list[dict], peaks: dict[int, float]) -> str:
    lines = [f"### {name}", "", "| contender | threads | seconds | samples/s | time ÷ best hand loop | "
             "test accuracy | GFLOP/s (% of matmul peak) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['contender']} | — | — | — | — | — | not run: {row['error']} |")
            continue
        peak = peaks[row["threads"]]
        lines.append(f"| {row['contender']} | {row['threads']} | {row['seconds']:.2f} | {row['samples_per_second']:,.0f} | "
                     f"{row['time_vs_best_hand_loop']:.2f}× | {row['accuracy']:.4f} | "
                     f"{row['gflops']:.1f} ({100 * row['gflops'] / peak:.0f} %) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="digits,synthetic")
    parser.add_argument("--repeats", type=int, default=5, help="rounds on digits; each contender's best counts")
    parser.add_argument("--synthetic-repeats", type=int, default=2, help="rounds on the 200k set (default 2)")
    parser.add_argument("--quick", action="store_true", help="20,000 synthetic samples instead of 200,000")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--seeds", type=int, default=10, help="seeds for digits' accuracy comparison (default 10)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "peers.md"))
    args = parser.parse_args()
    threads = torch.get_num_threads()
    peaks = {t: matmul_peak_gflops(t) for t in sorted({1, threads})}
    torch.set_num_threads(threads)
    header = [f"# neuralab vs peers — {time.strftime('%Y-%m-%d %H:%M')}", "",
              f"Machine: {platform.machine()}, {threads} CPU threads, torch {torch.__version__}, Python "
              f"{platform.python_version()}. Matmul peak (float32, 2048²): "
              + ", ".join(f"{t} thread(s) {g:.0f} GFLOP/s" for t, g in peaks.items()) + ".",
              "Seconds are training time (best of the round-robin rounds); the CLI row is a whole cold process.", ""]
    sections = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.problems.split(","):
            settings = PROBLEMS[name]
            spec = digits_spec(settings) if name == "digits" else \
                synthetic_spec(settings, Path(folder), 20_000 if args.quick else 200_000)
            repeats = args.repeats if name == "digits" else args.synthetic_repeats
            rows = run_problem(name, spec, repeats=repeats, with_keras=not args.no_keras)
            sections.append(render(name, rows, peaks))
            if name == "digits":
                sections[-1] += "\n\n" + accuracy_over_seeds(spec, settings, range(args.seeds))
            print(sections[-1] + "\n", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(header) + "\n" + "\n\n".join(sections) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
