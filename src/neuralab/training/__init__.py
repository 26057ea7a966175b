"""Training: losses, optimisers, schedules, the loop and its callbacks."""
from neuralab.training.events import EVENTS, Callback, TrainingState
from neuralab.training.loop import fit
from neuralab.training.losses import Head, make_head

__all__ = ["EVENTS", "Callback", "Head", "TrainingState", "fit", "make_head"]
