"""The language-model commands: sample (top-p, no cache), next (odds and temperature), train --init-from."""
from __future__ import annotations

import yaml

from neuralab.cli import main


def test_sample_streams_text_with_top_p_and_without_the_cache(tiny_gpt_run, capsys):
    assert main(["sample", str(tiny_gpt_run.dir), "--prompt", "ROMEO:", "-n", "20", "--top-p", "0.8",
                 "--seed", "2"]) == 0
    with_cache = capsys.readouterr().out
    assert with_cache.startswith("ROMEO:") and len(with_cache.rstrip("\n")) >= 20
    assert main(["sample", str(tiny_gpt_run.dir), "--prompt", "ROMEO:", "-n", "8", "--no-cache"]) == 0
    assert main(["sample", str(tiny_gpt_run.dir), "--top-p", "2"]) == 2
    assert "top_p: 2.0 — must be above 0 and at most 1" in capsys.readouterr().err


def test_next_lists_the_likely_tokens_and_the_temperatures(tiny_gpt_run, capsys):
    assert main(["next", str(tiny_gpt_run.dir), "--prompt", "To be, or not to", "--top", "4"]) == 0
    out = capsys.readouterr().out
    assert "next token after 'To be, or not to'" in out and "T = 0.5" in out and "T = 2" in out
    assert "uniform ln V" in out and out.count("█") >= 4
    assert main(["next", str(tiny_gpt_run.dir), "--prompt", "naïve ¿"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err


def test_init_from_on_the_command_line(tiny_gpt_run, tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_gpt_run.spec.model_dump(mode="json")))
    assert main(["train", str(spec), "-q", "--out", str(tmp_path), "--set", "train.max_steps=2",
                 "--set", "train.eval_every=2", "--init-from", str(tiny_gpt_run.dir)]) == 0
    assert "2 steps" in capsys.readouterr().out
    assert main(["train", str(spec), "-q", "--init-from", str(tmp_path / "nowhere")]) == 2
    assert main(["train", "--resume", str(tiny_gpt_run.dir), "--init-from", str(tiny_gpt_run.dir)]) == 2


def test_attention_writes_one_heat_map_per_layer_and_head(tiny_gpt_run, tmp_path, capsys):
    out = tmp_path / "pictures" / "attention.png"
    assert main(["attention", str(tiny_gpt_run.dir), "--prompt", "To be, or not to be", "--out", str(out)]) == 0
    assert "16 tokens, 2 layers × 2 heads" in capsys.readouterr().out  # the 19 characters cropped to the context
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["attention", str(tiny_gpt_run.dir), "--prompt", "x", "--out", str(tmp_path / "a.jpg")]) == 2
