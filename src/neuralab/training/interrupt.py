"""Turn Ctrl-C (SIGINT) and SIGTERM into a clean stop of the training loop.

While :func:`stop_on_signals` is active, the first SIGINT or SIGTERM only marks the
state (``state.interrupted = "SIGINT"``); the loop stops after the current batch and a
checkpoint callback can save where it stopped. A second signal raises
``KeyboardInterrupt`` at once, for someone who will not wait. Handlers are installed
only in the main thread (Python allows no other) and the previous ones are restored on exit.

Example:
    >>> from neuralab.spec import load_spec
    >>> from neuralab.training.experiment import Experiment
    >>> state = Experiment.from_spec(load_spec({"data": {"dataset": "xor", "n_samples": 40}})).state
    >>> with stop_on_signals(state):
    ...     pass
    >>> state.interrupted
    ''
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from neuralab.training.events import TrainingState

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(state: TrainingState) -> Iterator[None]:
    """While active, SIGINT/SIGTERM set ``state.interrupted`` instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handle(number: int, frame: object) -> None:
        if state.interrupted:
            raise KeyboardInterrupt  # a second signal: stop now, without waiting for the batch
        state.interrupted = signal.Signals(number).name
        state.stop(f"interrupted by {state.interrupted}")
        log.warning("%s received: stopping after the current batch", state.interrupted)

    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def exit_code(signal_name: str) -> int:
    """The shell's exit code for a process stopped by ``signal_name`` (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signal.Signals[signal_name])
