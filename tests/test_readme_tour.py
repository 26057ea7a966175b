"""The README's command tour and Python tour run as written, in order, on tiny settings.

Both tours are read from README.md itself, so a command added there is run here. Tiny
settings, applied by :func:`tiny`: one epoch (``--set train.epochs=1``), two trials, two
sweep values, one doctor round, ten lr-find steps (its least), five race steps, and gradient boosting with
five trees. Every ``tune`` and ``sweep`` runs twice: the second must start its own study
(issue 17). ``runs/<run>`` is the newest complete run, except for ``--resume``/``resume``,
which get a run interrupted after its first epoch; ``new.csv`` holds rows with that run's
input columns. ``source .venv/bin/activate`` is the shell's, and ``neuralab playground``
and ``neuralab explore`` serve until stopped (tests/playground runs them); ``train --nproc`` and
``tune --workers`` start processes of their own (tests/training/test_distributed.py and
tests/tune/test_workers.py run them).
"""
from __future__ import annotations

import ast
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

import neuralab
from neuralab.cli import main
from neuralab.training import Callback

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SKIPPED = ("source", "neuralab playground", "neuralab explore",  # servers: run until stopped (tests/playground)
           "neuralab train examples/digits.yaml --nproc",  # several processes: tests/training/test_distributed.py
           )
WORKERS = "--workers"  # a tune line with worker processes: tests/tune/test_workers.py runs them


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def code_block(text: str, language: str = "") -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, flags=re.S)
    assert match, f"no ```{language} block"
    return match.group(1)


def tiny(args: list[str]) -> list[str]:
    """The same command on tiny settings (see the module's docstring)."""
    command, args = args[0], list(args)
    swaps = {"--trials": "2", "--rounds": "1"}
    for index, arg in enumerate(args[:-1]):
        if arg in swaps:
            args[index + 1] = swaps[arg]
        if arg == "--values":
            args[index + 1] = re.sub(r":(log|lin):\d+$", r":\1:2", args[index + 1])
    if command in ("train", "doctor", "baseline", "tune", "sweep", "lr-find") and "--resume" not in args:
        args += ["--set", "train.epochs=1", *language_model_settings(args)]
    if command in ("lr-find", "optimizers"):
        args += ["--steps", "10" if command == "lr-find" else "5"]
    return args


def language_model_settings(args: list[str]) -> list[str]:
    """Tiny settings for sequence specs: 20,000 characters of text or 500 sequences, 2 steps when step-based."""
    spec_file = next((ROOT / arg for arg in args if arg.endswith(".yaml") and (ROOT / arg).is_file()), None)
    if spec_file is None:
        return []
    spec = neuralab.load_spec(spec_file)
    extra = ["--set", "data.max_characters=20000"] if spec.data.dataset in ("shakespeare", "text") else \
        ["--set", "data.n_samples=500"] if spec.data.dataset in ("adding", "copy", "sine") else []
    return extra + (["--set", "train.max_steps=2", "--set", "train.eval_every=2"] if spec.train.max_steps else [])


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, state):
        state.interrupted = "SIGINT"  # as Ctrl-C does: checkpoint, then stop


def interrupted_run(folder: Path) -> Path:
    spec = neuralab.load_spec(ROOT / "examples" / "spiral.yaml", overrides={"train.epochs": 2})
    with pytest.raises(neuralab.TrainingInterrupted) as stopped:
        neuralab.train(spec, out_dir=folder, callbacks=[StopAfterFirstEpoch()], progress=False)
    return Path(stopped.value.run_dir)


def newest_run(folder: Path) -> Path:
    runs = [p for p in folder.glob("*/summary.json")]
    return max(runs, key=lambda p: p.stat().st_mtime).parent


def inputs_for(run_dir: Path, path: Path) -> Path:
    columns = neuralab.load_run(run_dir).preprocessor.input_columns
    values = np.random.default_rng(0).normal(size=(3, len(columns)))
    path.write_text(",".join(columns) + "\n" + "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in values))
    return path


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder holding a copy of examples/, as the repository's folder does; the tours run in it."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from neuralab.doctor import classical

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    few_trees = classical.Baseline(classical.BASELINES["hist_gradient_boosting"].summary,
                                   lambda seed: HistGradientBoostingClassifier(max_iter=5, random_state=seed),
                                   lambda seed: HistGradientBoostingRegressor(max_iter=5, random_state=seed))
    monkeypatch.setitem(classical.BASELINES, "hist_gradient_boosting", few_trees)
    return tmp_path


def test_the_command_line_tour_runs_in_order_and_again(workspace, capsys):
    lines = [line for line in code_block(section("A tour of the command line")).splitlines() if line.strip()]
    assert len(lines) >= 15
    resumable = interrupted_run(workspace / "runs")
    for line in lines:
        if line.startswith(SKIPPED) or WORKERS in line.split("#")[0]:
            continue
        args = shlex.split(line, comments=True)
        assert args[0] == "neuralab", line
        args = tiny(args[1:])
        if "runs/<run>" in args:
            target = resumable if "--resume" in args else newest_run(workspace / "runs")
            args = [str(target) if arg == "runs/<run>" else arg for arg in args]
        if "new.csv" in args:
            inputs_for(newest_run(workspace / "runs"), workspace / "new.csv")
        for attempt in range(2 if args[0] in ("tune", "sweep") else 1):
            code = main(args)
            printed = capsys.readouterr()
            assert code == 0, f"{line} (attempt {attempt + 1}) exited {code}:\n{printed.err}"
            studies = re.findall(r"^study (\S+):", printed.out, flags=re.M)
            if args[0] in ("tune", "sweep") and attempt == 1:  # a fresh study, numbered, not an error
                assert studies and re.fullmatch(r"\S+-\d+", studies[0]) and studies[0] != first, printed.out
            first = studies[0] if studies else None
    assert (workspace / "runs" / "race-rosenbrock.png").is_file()
    assert list((workspace / "runs").glob("*/predictions-new.csv"))


def test_the_python_tour_runs_in_order(workspace):
    resumable = interrupted_run(workspace / "runs")
    block = code_block(section("A tour of the Python API"), "python")
    replacements = {'{"train.epochs": 20}': '{"train.epochs": 1}', '"1e-4:1:log:9"': '"1e-4:1:log:2"',
                    "trials=30": "trials=2", '"runs/<run>"': repr(str(resumable)),
                    '"examples/shakespeare-char.yaml")': '"examples/shakespeare-char.yaml", overrides=GPT_TINY)',
                    '"examples/shakespeare-char.yaml", init_from': '"examples/shakespeare-char.yaml", overrides=GPT_TINY, init_from'}
    for old, new in replacements.items():
        assert old in block, f"the Python tour changed: update {old!r} in this test"
        block = block.replace(old, new)
    namespace: dict = {"GPT_TINY": {"train.max_steps": 2, "train.eval_every": 2, "data.max_characters": 20000}}
    for statement in ast.parse(block).body:
        source = ast.get_source_segment(block, statement)
        if "new.csv" in source:
            inputs_for(namespace["run"].dir, workspace / "new.csv")
        for _ in range(2 if re.search(r"\.(sweep|tune_study)\(", source) else 1):
            exec(compile(ast.Module([statement], type_ignores=[]), "README.md", "exec"), namespace)
    assert namespace["run"].summary["epochs_run"] == 1
    assert (workspace / "predictions.csv").is_file()
    assert sorted(p.name for p in (workspace / "runs").glob("*-sweep-*")) == \
        ["digits-mlp-sweep-train.learning_rate", "digits-mlp-sweep-train.learning_rate-2"]
