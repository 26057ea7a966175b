"""Peak memory of reading a large CSV: neuralab's training load and predict, against pyarrow's own reader.

Writes a CSV of ``--rows`` rows × 20 float features + an integer label (the issue's shape:
3.1 M rows × 21 columns is about 500 MB) into a temporary folder, then measures each step
in a fresh process: the peak resident memory (``ru_maxrss``) and the same process's
resident memory after its imports (the floor every step pays: Python, torch, numpy…).
Printed: peak, peak minus that floor, each as a multiple of the file's size.

Contenders, in one run:
* ``pyarrow.csv.read_csv`` into an Arrow table (float64 columns): the reader alone, no checks;
* ``neuralab load`` — ``load_data`` of a ``csv`` spec: read, check, split, standardise (what
  ``neuralab train`` holds before its first epoch);
* ``neuralab predict`` — ``neuralab.predict`` of the whole file with a run trained on its
  first rows, predictions written to CSV.

Usage:
    .venv/bin/python benchmarks/csv_memory.py [--rows 3100000] [--keep]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FEATURES = 20
CHILD = r"""
import json, resource, sys
step, path, extra = sys.argv[1], sys.argv[2], sys.argv[3]
import numpy, pyarrow, pyarrow.csv, torch, neuralab  # the same imports in every step: the same floor
from neuralab.data import load_data
from neuralab.spec import DataSpec
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
floor = rss_mb()
import time
started = time.perf_counter()
if step == "pyarrow":
    table = pyarrow.csv.read_csv(path)
    rows = table.num_rows
elif step == "load":
    bundle = load_data(DataSpec(dataset="csv", path=path), seed=0)
    rows = bundle.n_train + bundle.n_dev + bundle.n_test
elif step == "predict":
    from neuralab.api import prediction_columns  # what `neuralab predict` runs
    table = prediction_columns(extra, path, output=path + ".predictions.csv")
    rows = len(table["prediction"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"step": step, "rows": rows, "floor_mb": floor, "peak_mb": peak,
                  "seconds": time.perf_counter() - started}))
"""


def write_csv(path: Path, rows: int, *, seed: int = 0, chunk: int = 200_000) -> None:
    """A CSV of ``rows`` rows: x1…x20 (floats, 6 significant digits) and label (0–9)."""
    rng = np.random.default_rng(seed)
    header = ",".join([f"x{i + 1}" for i in range(FEATURES)] + ["label"]) + "\n"
    with open(path, "w") as handle:
        handle.write(header)
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            x = rng.normal(size=(n, FEATURES))
            label = (x[:, :3].sum(axis=1) > 0).astype(int) + 2 * (x[:, 3] > 0.5)
            block = np.column_stack([x, label])
            np.savetxt(handle, block, delimiter=",", fmt=["%.6g"] * FEATURES + ["%d"])


def measure(step: str, path: Path, extra: str = "") -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, step, str(path), extra], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_small_run(path: Path, folder: Path) -> str:
    """A run trained on the file's first 5,000 rows (predict needs one; its cost is not measured)."""
    import neuralab

    small = folder / "small.csv"
    with open(path) as source, open(small, "w") as target:
        for _, line in zip(range(5_001), source):
            target.write(line)
    run = neuralab.train({"name": "memory", "data": {"dataset": "csv", "path": str(small)},
                          "model": {"hidden": [16]}, "train": {"epochs": 1}}, out_dir=folder / "runs")
    return str(run.dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and the CSV)")
    parser.add_argument("--csv", type=Path, help="measure this CSV (as written by --keep) instead of writing one")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="neuralab-csv-memory-"))
    path = args.csv or folder / "large.csv"
    if args.csv is None:
        write_csv(path, args.rows)
    else:
        args.rows = sum(1 for _ in open(path)) - 1
    size_mb = path.stat().st_size / 2**20
    run_dir = train_small_run(path, folder)
    print(f"file: {args.rows:,} rows × {FEATURES + 1} columns, {size_mb:,.0f} MB ({path})")
    print(f"float32 numbers it holds: {args.rows * (FEATURES + 1) * 4 / 2**20:,.0f} MB")
    print("| step | seconds | peak RSS (MB) | × file | peak − import floor (MB) | × file |")
    print("|---|---|---|---|---|---|")
    for step, label in (("pyarrow", "pyarrow.csv.read_csv (table only)"), ("load", "neuralab load (train)"),
                        ("predict", "neuralab predict")):
        row = measure(step, path, run_dir)
        data = row["peak_mb"] - row["floor_mb"]
        print(f"| {label} | {row['seconds']:.1f} | {row['peak_mb']:,.0f} | {row['peak_mb'] / size_mb:.2f}× | {data:,.0f} | "
              f"{data / size_mb:.2f}× |", flush=True)
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
