"""neuralab's NeuralClassifier against scikit-learn's MLPClassifier, used the scikit-learn way.

    .venv/bin/python benchmarks/bench_sklearn.py [--problems digits,synthetic] [--repeats 5] [--quick] [--threads N]

Both estimators get the same raw arrays as a user would pass them (float64, as
``load_digits`` and ``make_classification`` return them; also float32 for MLPClassifier),
the same split (``train_test_split``, 20 % test, stratified, seed 0), the same network
(ReLU MLP), Adam at 1e-3, batch size and number of epochs, no L2, no early stopping.
Seconds are the whole ``fit`` call (input checks, preprocessing, training, scoring the
training split); accuracy is ``score`` on the test rows. Contenders run round-robin (one
fit each per round, best time of the rounds) so a slow spell of this shared machine hits
them alike. Prints a table with ratios to MLPClassifier (float64).

Problems:
  digits     1,797 × 64, 10 classes, MLP 128-128, batch 64, 50 epochs
  synthetic  200,000 × 100, 10 classes (make_classification), MLP 512-512, batch 256, 3 epochs
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

PROBLEMS = {
    "digits": {"hidden": (128, 128), "epochs": 50, "batch_size": 64},
    "synthetic": {"hidden": (512, 512), "epochs": 3, "batch_size": 256},
}


def load(name: str, *, quick: bool) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split

    if name == "digits":
        x, y = load_digits(return_X_y=True)
    else:
        x, y = make_classification(n_samples=20_000 if quick else 200_000, n_features=100, n_informative=60,
                                   n_redundant=10, n_classes=10, n_clusters_per_class=2, random_state=0)
    return tuple(train_test_split(x, y, test_size=0.2, stratify=y, random_state=0))


def neural_classifier(settings: dict, seed: int = 0, threads: int | None = None):
    from neuralab.sklearn import NeuralClassifier

    return NeuralClassifier(hidden=settings["hidden"], epochs=settings["epochs"], batch_size=settings["batch_size"],
                            learning_rate=1e-3, optimizer="adam", threads=threads, random_state=seed)


def mlp_classifier(settings: dict, seed: int = 0):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=settings["hidden"], solver="adam", learning_rate_init=1e-3,
                         batch_size=settings["batch_size"], max_iter=settings["epochs"], alpha=0.0, tol=0.0,
                         n_iter_no_change=settings["epochs"] + 1, shuffle=True, random_state=seed)


def fit_and_score(make, x_train, y_train, x_test, y_test) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning

    model = make()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    return seconds, float(model.score(x_test, y_test))


def run_problem(name: str, *, repeats: int, quick: bool, threads: int | None) -> str:
    settings = PROBLEMS[name]
    x_train, x_test, y_train, y_test = load(name, quick=quick)
    float32 = (x_train.astype(np.float32), y_train, x_test.astype(np.float32), y_test)
    plan = {
        "scikit-learn MLPClassifier (float64, as the data come)":
            lambda: fit_and_score(lambda: mlp_classifier(settings), x_train, y_train, x_test, y_test),
        "scikit-learn MLPClassifier (float32)": lambda: fit_and_score(lambda: mlp_classifier(settings), *float32),
        "neuralab NeuralClassifier (float64, as the data come)":
            lambda: fit_and_score(lambda: neural_classifier(settings, threads=threads), x_train, y_train, x_test, y_test),
    }
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in plan}
    for _ in range(repeats):
        for label, fit in plan.items():
            results[label].append(fit())
    reference = min(results["scikit-learn MLPClassifier (float64, as the data come)"])[0]
    lines = [f"### {name}: {len(x_train):,} training rows × {x_train.shape[1]}, MLP {'-'.join(map(str, settings['hidden']))}, "
             f"batch {settings['batch_size']}, {settings['epochs']} epochs, best of {repeats}", "",
             "| estimator | fit seconds | time ÷ MLPClassifier (float64) | test accuracy |", "|---|---|---|---|"]
    for label, runs in results.items():
        seconds, accuracy = min(runs)
        lines.append(f"| {label} | {seconds:.2f} | {seconds / reference:.2f}× | {accuracy:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="digits,synthetic")
    parser.add_argument("--repeats", type=int, default=5, help="rounds on digits (default 5)")
    parser.add_argument("--synthetic-repeats", type=int, default=2, help="rounds on the 200k set (default 2)")
    parser.add_argument("--quick", action="store_true", help="20,000 synthetic samples instead of 200,000")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for every contender (torch and BLAS); default: each one's own choice")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {time.strftime('%Y-%m-%d %H:%M')}\n")
    for name in args.problems.split(","):
        repeats = args.repeats if name == "digits" else args.synthetic_repeats
        print(run_problem(name, repeats=repeats, quick=args.quick, threads=args.threads) + "\n", flush=True)


if __name__ == "__main__":
    main()
