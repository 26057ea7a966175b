"""The doctor for transformers: attention entropy per head, spikes, the dev–train gap, update sizes, advice."""
from __future__ import annotations

import json
import math

import pytest
import torch

import neuralab
from neuralab.doctor.advice import advise
from neuralab.doctor.transformer_checks import (TransformerDiagnosis, _findings, diagnose_transformer, head_entropies,
                                                spike_steps)
from neuralab.models import ModelShape, build_model
from neuralab.spec import ModelSpec


def test_a_transformer_run_gets_its_section_picture_and_json(tiny_gpt_run):
    diagnosis = neuralab.diagnose(tiny_gpt_run.dir)
    found = diagnosis.transformer
    assert len(found.heads) == 2 and len(found.heads[0]) == 2
    assert all(0 <= head["entropy"] <= found.uniform_entropy + 1e-6 for layer in found.heads for head in layer)
    assert found.grad_norm["start"] > 0 and found.clip == 1.0
    assert set(found.update_ratios) >= {"blocks.0.attention.qkv", "blocks.1.mlp.project"}
    saved = json.loads((tiny_gpt_run.dir / "report.json").read_text())
    assert saved["transformer"]["heads"][0][0]["label"] in ("collapsed", "focused", "uniform")
    assert (tiny_gpt_run.dir / "attention.png").stat().st_size > 10_000
    assert "## Attention and training dynamics" in (tiny_gpt_run.dir / "report.md").read_text()
    sequence = diagnosis.sequence  # GPT-2's initialisation starts at a uniform guess: the first loss ≈ ln V
    assert sequence.initial_loss == pytest.approx(math.log(tiny_gpt_run.summary["vocab_size"]), rel=0.05)
    assert "initial_loss_off" not in diagnosis.problems
    assert "high_bias" not in diagnosis.problems  # next-character errors are not judged against an optimal error


def test_heads_with_huge_query_key_weights_collapse_onto_one_token():
    torch.manual_seed(0)
    model = build_model(ModelSpec(kind="transformer", transformer={"layers": 1, "heads": 2, "embed_dim": 16}),
                        ModelShape(n_inputs=1, n_outputs=9, vocab_size=9, sequence_length=12, output_steps="every"))
    tokens = torch.randint(0, 9, (4, 12), generator=torch.Generator().manual_seed(1))
    fresh, uniform, _ = head_entropies(model, tokens)
    assert all(h > 0.9 * uniform for h in fresh[0])  # at initialisation every head spreads evenly
    with torch.no_grad():
        model.blocks[0].attention.qkv.weight[:32] *= 400  # queries and keys: the scores saturate the softmax
    sharp, _, _ = head_entropies(model, tokens)
    assert all(h < 0.1 * uniform for h in sharp[0])


def diagnosis(**changes) -> TransformerDiagnosis:
    base = dict(heads=[[{"entropy": 2.0, "share": 0.5, "label": "focused"}] * 2], uniform_entropy=4.0, spikes=[],
                train_loss=1.5, dev_loss=1.55, gap=0.033, grad_norm={"start": 1.0, "end": 0.5, "max": 1.0}, clip=1.0,
                update_ratios={"a": 1e-3, "b": 2e-3})
    return TransformerDiagnosis(**{**base, **changes})


def test_findings_name_each_problem_and_the_advice_changes_the_right_fields(tiny_gpt_run):
    assert _findings(diagnosis(), tiny_gpt_run.spec) == []
    collapsed = [[{"entropy": 0.01, "share": 0.002, "label": "collapsed"}] * 2]
    verdicts = [f.verdict for f in _findings(diagnosis(heads=collapsed, train_loss=1.0, dev_loss=1.3, gap=0.3,
                                                       update_ratios={"a": 0.05}, spikes=[
                                                           {"step": 40, "loss": 5.0, "before": 2.0, "source": "x"}]),
                                             tiny_gpt_run.spec)]
    assert verdicts == ["attention_collapsed", "loss_spikes", "dev_train_gap", "update_ratio_high"]
    spec = tiny_gpt_run.spec
    assert {a.field for a in advise("loss_spikes", spec)} >= {"train.learning_rate", "train.beta2"}
    assert {a.field for a in advise("dev_train_gap", spec)} >= {"model.dropout", "model.transformer"}
    assert advise("attention_uniform", spec)[0].field == "train.max_steps"
    assert [a.to for a in advise("update_ratio_low", spec)] == [pytest.approx(0.03)]
    wider = next(a for a in advise("high_bias", spec) if a.field == "model.transformer")
    assert wider.to["embed_dim"] == 32 and neuralab.load_spec(spec, overrides={"model.transformer": wider.to})


def test_spikes_are_losses_well_above_the_recent_median():
    assert spike_steps([2.0, 2.0, 2.0, 2.1, 1.9, 2.0], steps=list(range(6))) == []
    [(step, loss, before)] = spike_steps([2.0, 2.0, 2.0, 2.1, 3.5, 2.0], steps=[10, 20, 30, 40, 50, 60])
    assert (step, loss, before) == (50, 3.5, 2.0)


def test_other_kinds_have_no_transformer_section():
    run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 1}}, out_dir=None)
    assert diagnose_transformer(run, run.health) is None
