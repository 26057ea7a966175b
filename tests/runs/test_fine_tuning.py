"""A language model's vocabulary stays with its run; --init-from fine-tunes on another text, or refuses clearly."""
from __future__ import annotations

import json

import pytest
import torch

import neuralab
from neuralab.errors import DataError, RunError, SpecError
from neuralab.runs.fine_tuning import TOKENIZER, read_tokenizer


def test_the_run_keeps_its_vocabulary_as_json(tiny_gpt_run):
    saved = json.loads((tiny_gpt_run.dir / TOKENIZER).read_text())
    assert saved["format"] == "neuralab.vocabulary/1" and len(saved["characters"]) == tiny_gpt_run.summary["vocab_size"]
    assert read_tokenizer(tiny_gpt_run.dir).characters == tiny_gpt_run.preprocessor.characters
    (tiny_gpt_run.dir.parent / "bad").mkdir(exist_ok=True)
    (tiny_gpt_run.dir.parent / "bad" / TOKENIZER).write_text('{"format": "neuralab.vocabulary/1", "characters": 3}')
    with pytest.raises(RunError, match="vocabulary"):
        read_tokenizer(tiny_gpt_run.dir.parent / "bad")


def test_fine_tuning_starts_from_the_runs_weights_on_another_text(tiny_gpt_run, tmp_path):
    from neuralab.data.text import read_corpus

    known = set(tiny_gpt_run.preprocessor.characters)
    later = read_corpus(neuralab.load_spec({"data": {"dataset": "shakespeare"}}).data)[50_000:56_000]
    text = tmp_path / "later.txt"  # Shakespeare the run never read, in the characters it knows
    text.write_text("".join(ch for ch in later if ch in known), encoding="utf-8")
    spec = neuralab.load_spec(tiny_gpt_run.spec, overrides={
        "data.dataset": "text", "data.path": str(text), "data.max_characters": None, "train.max_steps": 4,
        "train.eval_every": 4, "train.learning_rate": 1e-9, "train.schedule": "constant", "model.dropout": 0.0})
    tuned = neuralab.train(spec, out_dir=tmp_path, init_from=tiny_gpt_run.dir)
    assert tuned.summary["init_from"] == str(tiny_gpt_run.dir)
    assert tuned.preprocessor.characters == tiny_gpt_run.preprocessor.characters  # the run's vocabulary, not the poem's
    for name, tensor in tiny_gpt_run.model.state_dict().items():  # a rate of 1e-9 leaves the weights where they were
        assert torch.allclose(tuned.model.state_dict()[name], tensor, atol=1e-6), name
    fresh = neuralab.train(spec, out_dir=None)
    assert tuned.summary["dev_loss"] < fresh.summary["dev_loss"]  # the trained start knows letters already


def test_init_from_refuses_another_kind_vocabulary_tokenizer_or_network(tiny_gpt_run, tmp_path):
    other_kind = neuralab.load_spec(tiny_gpt_run.spec, overrides={"model.kind": "gru"})
    with pytest.raises(SpecError, match=r"is a 'transformer' model and this spec trains model.kind 'gru'"):
        neuralab.train(other_kind, out_dir=None, init_from=tiny_gpt_run.dir)
    with pytest.raises(SpecError, match=r"reads char tokens .* set data.tokenizer: char"):
        neuralab.train(tiny_gpt_run.spec, out_dir=None, init_from=tiny_gpt_run.dir,
                       overrides={"data.tokenizer": "bpe", "data.vocab_size": 300})
    wider = neuralab.load_spec(tiny_gpt_run.spec, overrides={"model.transformer.embed_dim": 32})
    with pytest.raises(SpecError, match=r"network .* is not the spec's"):
        neuralab.train(wider, out_dir=None, init_from=tiny_gpt_run.dir)
    greek = tmp_path / "greek.txt"
    greek.write_text("αβγδ εζηθ " * 300, encoding="utf-8")
    with pytest.raises(DataError, match=r"characters the model's vocabulary of \d+ lacks \('α'"):
        neuralab.train(tiny_gpt_run.spec, out_dir=None, init_from=tiny_gpt_run.dir,
                       overrides={"data.dataset": "text", "data.path": str(greek), "data.max_characters": None})
    tabular = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 1}}, out_dir=tmp_path)
    with pytest.raises(SpecError, match="is a 'mlp' model"):
        neuralab.train(tiny_gpt_run.spec, out_dir=None, init_from=tabular.dir)
