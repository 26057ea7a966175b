"""The recurrent loops neuralab is compared with: same network, data, batches, optimiser, clipping, epochs.

Each contender takes the same arrays (neuralab's split) and returns (seconds spent training, test loss).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


class HandLSTM(nn.Module):
    """What one would write: [embedding] → nn.LSTM(num_layers) → a linear head (last step, or every step)."""

    def __init__(self, *, n_inputs: int, vocab: int | None, embedding: int, hidden: int, layers: int, n_outputs: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding) if vocab else None
        self.lstm = nn.LSTM(embedding if vocab else n_inputs, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        out, _ = self.lstm(self.embedding(x) if self.embedding is not None else x)
        return self.head(out if self.embedding is not None else out[:, -1])


def hand_lstm_loop(data, *, hidden, layers, embedding, epochs, batch_size, learning_rate, clip, seed: int = 0):
    """A plain PyTorch loop over in-memory tensors: randperm, index slicing, fused Adam, clip_grad_norm_."""
    x, y, x_test, y_test = (torch.from_numpy(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test))
    text = data.vocab_size is not None
    torch.manual_seed(seed)
    model = HandLSTM(n_inputs=1 if text else x.shape[-1], vocab=data.vocab_size, embedding=embedding, hidden=hidden,
                     layers=layers, n_outputs=data.vocab_size if text else 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
    loss_of = (lambda s, t: nn.functional.cross_entropy(s.reshape(-1, s.shape[-1]), t.reshape(-1))) if text else \
        (lambda s, t: nn.functional.mse_loss(s[:, 0], t))
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            loss = loss_of(model(x[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        return seconds, float(loss_of(model(x_test), y_test))


def keras_lstm(data, *, hidden, layers, embedding, epochs, batch_size, learning_rate, clip, seed: int = 0):
    """Keras 3 on its torch backend, the same network (in a child process: the backend is chosen at import)."""
    script = Path(__file__).with_name("keras_sequence_child.py")
    with tempfile.TemporaryDirectory() as folder:
        arrays = Path(folder) / "data.npz"
        np.savez(arrays, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
        env = {**os.environ, "KERAS_BACKEND": "torch"}
        settings = [hidden, layers, embedding, data.vocab_size or 0, epochs, batch_size, learning_rate, clip,
                    torch.get_num_threads()]
        result = subprocess.run([sys.executable, str(script), str(arrays), *map(str, settings)],
                                capture_output=True, text=True, env=env, timeout=7200)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr else "keras failed")
    seconds, loss = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(loss)
