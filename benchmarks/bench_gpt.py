"""nanoGPT's CPU recipe: neuralab's training steps against a minimal hand-written GPT loop, the KV cache, bf16.

    .venv/bin/python benchmarks/bench_gpt.py [--steps 150] [--rounds 3] [--busy both|no|yes]

The model is ``examples/shakespeare-char.yaml``'s (4 layers, 4 heads, 128 wide, context 64,
batch 12, AdamW, warm-up + cosine, clipping at 1). Contenders, in one process, round-robin
(one run each per round; the best of the rounds is kept, as the machine is shared):

* **hand loop** — a minimal GPT written here (nanoGPT's structure: token + position
  embeddings, pre-LayerNorm blocks on ``scaled_dot_product_attention``, GELU MLP, tied
  output; the same parameter count, checked) trained by a plain loop: random windows, forward,
  cross-entropy, backward, clip, fused AdamW with decay on matrices, the schedule by hand;
* **neuralab** — ``Experiment.fit`` on the same spec with the work the hand loop does
  (one dev batch scored at the end, no doctor recording, no text samples);
* **neuralab, defaults** — with the doctor's recording every 100 steps.

It prints tokens/s, each contender's time per step against the hand loop's, and the
achieved GFLOP/s as a share of the float32 matmul peak measured in the same round (6·N per
token for the weights, 12·L·T·C for attention). Then the key/value cache's speed-up when
sampling (within the context, and 500 tokens from the 64-token model, where the cache is
rebuilt from half a context whenever it fills) and bf16 autocast against float32 per step.
``--busy yes`` keeps another process spinning on a core meanwhile; ``both`` runs idle then busy.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import neuralab
from neuralab.data import load_data
from neuralab.models.sampling import sample_tokens
from neuralab.training.experiment import Experiment

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "shakespeare-char.yaml"


# --------------------------------------------------------------------------- the hand-written GPT


class HandBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.c_attn, self.c_proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.c_fc, self.mlp_proj = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class HandGPT(nn.Module):
    def __init__(self, vocab: int, block: int, width: int, layers: int, heads: int):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
        self.blocks = nn.ModuleList(HandBlock(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
        for block in self.blocks:
            for projection in (block.c_proj, block.mlp_proj):
                nn.init.normal_(projection.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)


def hand_loop(spec, bundle, steps: int) -> float:
    """Seconds for ``steps`` training steps of the hand-written GPT (plus one dev batch at the end)."""
    settings, train = spec.model.transformer, spec.train
    torch.manual_seed(spec.seed)
    model = HandGPT(bundle.vocab_size, spec.data.sequence_length, settings.embed_dim, settings.layers, settings.heads)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": train.l2}, {"params": rest, "weight_decay": 0.0}],
                                  lr=train.learning_rate, betas=(0.9, train.beta2), fused=True)
    x, y = torch.from_numpy(bundle.x_train), torch.from_numpy(bundle.y_train)
    generator = torch.Generator().manual_seed(spec.seed)
    warm, lr0, floor = train.schedule.warmup_steps, train.learning_rate, train.schedule.min_lr
    params = list(model.parameters())
    started = time.perf_counter()
    for step in range(steps):
        ratio = min(max(step - warm, 0) / (train.max_steps - warm), 1.0)
        lr = lr0 * (step + 1) / (warm + 1) if step < warm else floor + (lr0 - floor) * (1 + math.cos(math.pi * ratio)) / 2
        for group in optimizer.param_groups:
            group["lr"] = lr
        rows = torch.randint(len(x), (train.batch_size,), generator=generator)
        logits = model(x[rows])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[rows].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, train.grad_clip)
        optimizer.step()
        loss.item()  # every loop reads its loss (to log it, to stop on NaN)
    with torch.no_grad():
        model.eval()
        model(torch.from_numpy(bundle.x_dev[:train.batch_size]))
    return time.perf_counter() - started


def neuralab_loop(spec, bundle, steps: int, *, recording: bool, autocast: str = "off") -> float:
    """Seconds for ``steps`` steps of ``Experiment.fit`` (one dev batch scored at the end)."""
    run_spec = neuralab.load_spec(spec, overrides={
        "train.max_steps": steps, "train.eval_every": steps, "train.eval_batches": 1, "train.autocast": autocast,
        "diagnose.health_every": 100 if recording else 0, "diagnose.text_samples": 0})
    experiment = Experiment.from_spec(run_spec, bundle=bundle)
    started = time.perf_counter()
    experiment.fit()
    return time.perf_counter() - started


def hand_parameters(spec, bundle) -> int:
    settings = spec.model.transformer
    return sum(p.numel() for p in HandGPT(bundle.vocab_size, spec.data.sequence_length, settings.embed_dim,
                                          settings.layers, settings.heads).parameters())


def flops_per_token(spec, vocab: int) -> float:
    """Training FLOPs per token: 6 × the weights' multiply-adds (output layer included), + attention 12·L·T·C."""
    s, t = spec.model.transformer, spec.data.sequence_length
    weights = s.layers * 12 * s.embed_dim ** 2 + vocab * s.embed_dim
    return 6 * weights + 12 * s.layers * t * s.embed_dim


def matmul_peak(threads: int, size: int = 1024, repeats: int = 20) -> float:
    """GFLOP/s of a float32 size² matmul on ``threads`` threads (best of three bursts)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, repeats * 2 * size ** 3 / (time.perf_counter() - started) / 1e9)
    return best


# --------------------------------------------------------------------------- the measurements


def training_table(spec, bundle, steps: int, rounds: int) -> list[str]:
    threads = Experiment.from_spec(neuralab.load_spec(spec, overrides={"train.max_steps": 1}), bundle=bundle).threads
    ours = Experiment.from_spec(spec, bundle=bundle).n_parameters
    assert ours == hand_parameters(spec, bundle), "the hand GPT must have neuralab's parameters"
    contenders = {"hand loop (minimal GPT, fused AdamW)": lambda: hand_loop(spec, bundle, steps),
                  "neuralab (the hand loop's work)": lambda: neuralab_loop(spec, bundle, steps, recording=False),
                  "neuralab (defaults: doctor recording)": lambda: neuralab_loop(spec, bundle, steps, recording=True)}
    times = {name: [] for name in contenders}
    peaks = []
    torch.set_num_threads(threads)  # warm-up: kernels, allocator
    hand_loop(spec, bundle, 10)
    neuralab_loop(spec, bundle, 10, recording=False)
    for _ in range(rounds):
        peaks.append(matmul_peak(threads))
        for name, run in contenders.items():
            torch.set_num_threads(threads)
            times[name].append(run())
    peak = statistics.median(peaks)
    tokens = steps * spec.train.batch_size * spec.data.sequence_length
    flops = flops_per_token(spec, bundle.vocab_size) * tokens
    hand = min(times[next(iter(times))])
    lines = [f"{ours:,} parameters, {threads} threads, {steps} steps × {spec.train.batch_size} × "
             f"{spec.data.sequence_length} tokens, best of {rounds} rounds; float32 matmul peak {peak:.0f} GFLOP/s",
             "", "| contender | ms per step | tokens/s | time ÷ hand loop | GFLOP/s (% of matmul peak) |",
             "|---|---|---|---|---|"]
    for name, seconds in times.items():
        best = min(seconds)
        lines.append(f"| {name} | {1000 * best / steps:.1f} | {tokens / best:,.0f} | {best / hand:.2f}× | "
                     f"{flops / best / 1e9:.1f} ({100 * flops / best / 1e9 / peak:.0f} %) |")
    return lines


def cache_table(spec, bundle) -> list[str]:
    lines = ["", "| sampling | tokens | with the KV cache | without | speed-up |", "|---|---|---|---|---|"]
    for label, block, length in (("within the context (block 256)", 256, 200), ("500 tokens, block 64", None, 500)):
        overrides = {"model.transformer.block_size": block} if block else {}
        model = Experiment.from_spec(neuralab.load_spec(spec, overrides=overrides), bundle=bundle).model.eval()
        prompt = torch.from_numpy(bundle.x_dev[0][:16])
        seconds = {}
        for cache in (True, False):
            list(sample_tokens(model, prompt, length=8, cache=cache))  # warm-up
            started = time.perf_counter()
            list(sample_tokens(model, prompt, length=length, cache=cache, generator=torch.Generator().manual_seed(0)))
            seconds[cache] = time.perf_counter() - started
        lines.append(f"| {label} | {length} | {length / seconds[True]:,.0f} tokens/s | "
                     f"{length / seconds[False]:,.0f} tokens/s | {seconds[False] / seconds[True]:.1f}× |")
    return lines


def autocast_table(spec, bundle, steps: int) -> list[str]:
    seconds = {mode: min(neuralab_loop(spec, bundle, steps, recording=False, autocast=mode) for _ in range(2))
               for mode in ("off", "bf16")}
    return ["", "| precision | ms per step | ÷ float32 |", "|---|---|---|"] + [
        f"| {'float32' if mode == 'off' else 'bf16 autocast'} | {1000 * value / steps:.1f} | "
        f"{value / seconds['off']:.2f}× |" for mode, value in seconds.items()]


def measure(steps: int, rounds: int) -> list[str]:
    spec = neuralab.load_spec(SPEC)
    bundle = load_data(spec.data, seed=spec.seed)
    load = os.getloadavg()[0]
    lines = [f"load average at the start: {load:.1f} on {os.cpu_count()} CPUs", ""]
    lines += training_table(spec, bundle, steps, rounds)
    lines += cache_table(spec, bundle)
    lines += autocast_table(spec, bundle, max(steps // 3, 20))
    lines += ["", f"load average at the end: {os.getloadavg()[0]:.1f}"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", choices=("no", "yes", "both"), default="both")
    args = parser.parse_args()
    print(f"# nanoGPT's CPU recipe: {platform.machine()} {platform.processor() or ''}, torch {torch.__version__}, "
          f"{time.strftime('%Y-%m-%d')}")
    for busy in (("no", "yes") if args.busy == "both" else (args.busy,)):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy == "yes" else None
        try:
            print(f"\n## {'with another process keeping a core busy' if spinner else 'no extra load'}\n")
            print("\n".join(measure(args.steps, args.rounds)))
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()


if __name__ == "__main__":
    main()
