"""How fast the playground trains and streams: epochs and frames per second over the WebSocket.

    .venv/bin/python benchmarks/bench_playground.py [--seconds 8] [--busy]

Three networks, each pressed "play" on the real server (``neuralab playground``, in its own
process as a browser's server is) by a WebSocket client that acknowledges every frame as
a browser does (``drawn``):

* the default 4-2 tanh network on 500 circle points (250 train, batch 10: 25 steps an epoch);
* 6 × 8 tanh on the same points;
* 10 × 64 tanh on 5,000 points (2,500 train, batch 10: 250 steps an epoch).

The page trains in its classic mode (TensorFlow Playground's numbers: a tanh output and
½(o − t)², raw inputs, the rows in one order, the training loss re-scored after every epoch
and the test loss with it). In the same run, the floor: a hand-written PyTorch loop
(``nn.Sequential``, fused SGD, the same batches, the same output and loss, nothing but the
steps) trains the same network just before and just after the page plays (the mean of the
two), so the printed ratio says how much of the machine's eager-PyTorch speed the
playground keeps while it also scores and draws. TensorFlow
Playground runs about 60 epochs/s (one epoch per animation frame, in the browser).

Report the load the machine was under (``uptime`` before and after): the rates follow it.

Targets (issue 12, on an idle machine): 4-2 ≥ 60 epochs/s and ≥ 30 frames/s; 6 × 8 ≥ 40
epochs/s and ≥ 30 frames/s; 10 × 64 on 5,000 points ≥ 5 frames/s. ``--busy`` runs the same
with another process keeping one core busy (``python -c "while True: pass"``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


TFP_EPOCHS_PER_SECOND = 60
CASES = [  # name, state, epochs/s target, frames/s target
    ("4-2 (default), 500 points", {"hidden": [4, 2], "activations": ["tanh"] * 2}, 60, 30),
    ("6 × 8, 500 points", {"hidden": [8] * 6, "activations": ["tanh"] * 6}, 40, 30),
    ("10 × 64, 5,000 points", {"hidden": [64] * 10, "activations": ["tanh"] * 10, "n_samples": 5000}, None, 5),
]


async def _play(url: str, state: dict, seconds: float) -> tuple[float, float, float]:
    """(epochs/s, frames/s, optimiser steps per frame) while playing for ``seconds``."""
    import websockets

    async with websockets.connect(url.replace("http", "ws") + "/ws", origin=url, max_size=2**26) as socket:
        await socket.send(json.dumps({"type": "configure", "changes": state}))
        await socket.send(json.dumps({"type": "play"}))
        frames, first, last, started = 0, None, None, None
        while True:
            message = json.loads(await socket.recv())
            if message["type"] != "frame":
                continue
            await socket.send('{"type": "drawn"}')  # as the page does once it has drawn the frame
            if message["step"] == 0:
                continue
            if started is None:
                started, first = time.perf_counter(), message
                continue
            frames, last = frames + 1, message
            if time.perf_counter() - started >= seconds:
                break
        elapsed = time.perf_counter() - started
        await socket.send(json.dumps({"type": "pause"}))
    steps_per_epoch = (last["step"] - first["step"]) / max(last["epoch"] - first["epoch"], 1e-9)
    epochs = (last["step"] - first["step"]) / steps_per_epoch if last["epoch"] > first["epoch"] else 0.0
    return epochs / elapsed, frames / elapsed, (last["step"] - first["step"]) / max(frames, 1)


def hand_loop_epochs_per_second(state: dict, seconds: float) -> float:
    """The floor: eager PyTorch, the same network and batches, nothing but training."""
    widths = [2, *state["hidden"]]
    layers: list[nn.Module] = []
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.Tanh()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, fused=True)
    n_train = state.get("n_samples", 500) // 2
    inputs, targets = 6 * torch.rand(n_train, 2) - 3, torch.sign(torch.randn(n_train, 1))  # raw inputs, labels ±1
    epochs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for start in range(0, n_train, 10):  # the rows in one order, as classic mode takes them
            rows = slice(start, start + 10)
            loss = 0.5 * F.mse_loss(torch.tanh(model(inputs[rows])), targets[rows])  # ½(o − t)²
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        epochs += 1
    return epochs / (time.perf_counter() - started)


@contextmanager
def playground_server():
    """``neuralab playground --port 0`` in its own process; yields its URL."""
    command = [str(Path(sys.executable).parent / "neuralab"), "playground", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        if not match:
            raise RuntimeError("the playground server did not start")
        yield match.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    args = parser.parse_args()
    torch.set_num_threads(1)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        print(f"playground over the WebSocket, {args.seconds:g} s per network{' (one core busy)' if busy else ''}; "
              f"load average {os.getloadavg()[0]:.2f} at the start")
        print(f"{'network':<28}{'epochs/s':>10}{'frames/s':>10}{'steps/frame':>13}{'hand loop':>11}"
              f"{'÷ hand':>8}{'÷ TFP 60':>10}  target")
        ok = True
        with playground_server() as url:
            for name, state, epoch_target, frame_target in CASES:
                # the floor measured just before and just after the page plays: this machine's speed drifts
                # by tens of per cent over minutes, and the ratio must compare the same minutes
                hand_seconds = min(args.seconds, 4.0) / 2
                before = hand_loop_epochs_per_second(state, hand_seconds)
                epochs, frames, steps = asyncio.run(_play(url, state, args.seconds))
                floor = (before + hand_loop_epochs_per_second(state, hand_seconds)) / 2
                met = frames >= frame_target and (epoch_target is None or epochs >= epoch_target)
                ok = ok and met
                target = (f"≥ {epoch_target} epochs/s, " if epoch_target else "") + f"≥ {frame_target} frames/s"
                print(f"{name:<28}{epochs:>10.1f}{frames:>10.1f}{steps:>13.1f}{floor:>11.1f}"
                      f"{epochs / floor:>7.2f}×{epochs / TFP_EPOCHS_PER_SECOND:>9.2f}×  {target}: {'met' if met else 'NOT met'}")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        print("all targets met" if ok else "some targets NOT met (see above)")
    finally:
        if busy:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
