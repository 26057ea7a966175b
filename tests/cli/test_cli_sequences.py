"""The command line on sequences: train prints the baseline, `sample` streams text, bad input exits 2 in one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuralab.cli import main

TEXT = """name: tiny-text
data: {dataset: shakespeare, max_characters: 4000, sequence_length: 20}
model: {kind: gru, recurrent: {hidden_size: 12}}
train: {epochs: 2, batch_size: 16, learning_rate: 0.02}
diagnose: {text_samples: 2, health_every: 5}
"""


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-seq")
    spec = folder / "text.yaml"
    spec.write_text(TEXT)
    assert main(["train", str(spec), "--out", str(folder / "runs"), "-q"]) == 0
    [run] = (folder / "runs").iterdir()
    return run


def test_train_reports_the_memoryless_baseline_and_keeps_samples(text_run, capsys):
    summary = json.loads((text_run / "summary.json").read_text())
    assert summary["baseline_loss"] > 2 and summary["data_kind"] == "text" and summary["vocab_size"] > 30
    samples = json.loads((text_run / "samples.json").read_text())
    assert [s["epoch"] for s in samples] == [1, 2] and all(len(s["text"]) == 300 for s in samples)


def test_sample_streams_the_same_text_for_the_same_seed(text_run, capsys):
    assert main(["sample", str(text_run), "--prompt", "First", "--length", "40", "--temperature", "0.8",
                 "--top-k", "5", "--seed", "7"]) == 0
    first = capsys.readouterr().out
    assert main(["sample", str(text_run), "--prompt", "First", "--length", "40", "--temperature", "0.8",
                 "--top-k", "5", "--seed", "7"]) == 0
    assert capsys.readouterr().out == first and first.startswith("First") and len(first) == len("First") + 40 + 1


@pytest.mark.parametrize("arguments, line", [
    (["--prompt", "Fië"], "error: prompt: 'ë' is not in the vocabulary of"),
    (["--temperature", "-1"], "error: temperature: -1.0 — must be from 0"),
    (["--top-k", "0"], "error: top_k: 0 — must be at least 1"),
])
def test_bad_sampling_input_exits_2_with_one_line(text_run, capsys, arguments, line):
    assert main(["sample", str(text_run), *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(line) and "\n" not in error


def test_sample_refuses_a_run_that_is_not_a_language_model(tmp_path, capsys):
    spec = tmp_path / "adding.yaml"
    spec.write_text("data: {dataset: adding, n_samples: 60, sequence_length: 6}\nmodel: {kind: rnn}\n"
                    "train: {epochs: 1}\n")
    assert main(["train", str(spec), "--out", str(tmp_path), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "vs the memoryless baseline 0.1667" in printed
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert main(["sample", str(run)]) == 2
    assert "is not a language model (model.kind 'rnn' on 'adding' data)" in capsys.readouterr().err
    assert main(["predict", str(run), "--input", str(spec)]) == 2
    assert "learned sequences" in capsys.readouterr().err


def test_a_sequence_task_with_an_mlp_says_which_kinds_learn_it(tmp_path, capsys):
    spec = tmp_path / "mlp.yaml"
    spec.write_text("data: {dataset: copy}\n")
    assert main(["train", str(spec), "--out", str(tmp_path)]) == 2
    assert "is sequence data — use model.kind rnn or lstm or gru" in capsys.readouterr().err
    assert not any(p.is_dir() for p in tmp_path.iterdir())


def test_diagnose_json_carries_the_sequence_diagnosis(text_run, capsys):
    assert main(["diagnose", str(text_run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    sequence = report["sequence"]
    assert {"gradient_ratio", "verdict", "baseline_loss", "stuck_at_baseline"} <= set(sequence)
    assert sequence["expected_initial_loss"] == pytest.approx(__import__("math").log(report_vocab(text_run)))
    assert report["learning_curve"] is None and len(report["samples"]) == 2


def report_vocab(run: Path) -> int:
    return json.loads((run / "summary.json").read_text())["vocab_size"]
