"""Training: the experiment, its per-step rules, the loop and its callbacks, losses, optimisers, schedules."""
from neuralab.training.events import EVENTS, Callback, TrainingState
from neuralab.training.losses import Head, make_head

__all__ = ["EVENTS", "Callback", "Experiment", "Head", "TrainingState", "make_head"]


def __getattr__(name: str):
    if name == "Experiment":  # imported on use: the experiment pulls in data and models
        from neuralab.training.experiment import Experiment

        return Experiment
    raise AttributeError(f"module 'neuralab.training' has no attribute {name!r}")
