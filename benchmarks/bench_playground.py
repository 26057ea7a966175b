"""How fast the playground streams: frames per second with ≥ 10 training steps per frame.

    .venv/bin/python benchmarks/bench_playground.py [--seconds 5]

The network is 6 hidden layers × 8 neurons (tanh, SGD) on 500 circle points, half of
them for training and batch size 25, so one epoch is exactly 10 optimiser steps. Two
measurements, both printed:

1. session: ``Session.advance(epochs=1)`` plus the frame's JSON encoding, back to back:
   every frame is 10 steps, the heat map, 48 neuron thumbnails, weights and the doctor's
   live health verdicts.
2. server: the real uvicorn server on a loopback port and a WebSocket client that presses
   play and counts the frames it receives (the server trains about 1/100 s, at least one
   epoch, per frame); steps per frame are read from the epoch counter.

The target is ≥ 30 frames/s in both.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time

import torch

from neuralab.playground.server import BackgroundServer
from neuralab.playground.session import Session
from neuralab.playground.state import PlaygroundState

TARGET_FPS = 30
STATE = {"hidden": [8] * 6, "activations": ["tanh"] * 6, "n_samples": 500, "ratio": 50, "batch_size": 25}
STEPS_PER_EPOCH = 10  # 250 training points / batch 25


def bench_session(seconds: float) -> float:
    session = Session(PlaygroundState(**STATE))
    session.advance(epochs=1)  # warm-up
    frames, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        json.dumps(session.advance(epochs=1))
        frames += 1
    return frames / (time.perf_counter() - started)


async def _count_frames(url: str, seconds: float) -> tuple[float, float]:
    import websockets

    origin = url
    async with websockets.connect(url.replace("http", "ws") + "/ws", origin=origin, max_size=2**24) as socket:
        await socket.send(json.dumps({"type": "configure", "changes": STATE}))
        await socket.send(json.dumps({"type": "play"}))
        frames, first_epoch, last_epoch, started = 0, None, 0, None
        while True:
            message = json.loads(await socket.recv())
            if message["type"] != "frame" or message["epoch"] == 0:
                continue
            if started is None:
                started, first_epoch = time.perf_counter(), message["epoch"]
                continue
            frames += 1
            last_epoch = message["epoch"]
            if time.perf_counter() - started >= seconds:
                break
        elapsed = time.perf_counter() - started
        await socket.send(json.dumps({"type": "pause"}))
    return frames / elapsed, (last_epoch - first_epoch) * STEPS_PER_EPOCH / max(frames, 1)


def bench_server(seconds: float) -> tuple[float, float]:
    with BackgroundServer() as url:
        return asyncio.run(_count_frames(url, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    session_fps = bench_session(args.seconds)
    print(f"session: {session_fps:.1f} frames/s at {STEPS_PER_EPOCH} steps per frame "
          f"(6×8 tanh network, 500 points) — target ≥ {TARGET_FPS}")
    server_fps, steps = bench_server(args.seconds)
    print(f"server:  {server_fps:.1f} frames/s over the WebSocket, {steps:.1f} steps per frame "
          f"— target ≥ {TARGET_FPS} with ≥ 10")
    ok = session_fps >= TARGET_FPS and server_fps >= TARGET_FPS and steps >= 10
    print("meets the target" if ok else "BELOW the target")


if __name__ == "__main__":
    main()
