"""The doctor: why a network is not learning, and what to change.

- :func:`bias_variance` — the lecture's bias/variance verdict against an optimal error, with advice.
- :func:`diagnose` — a whole run: bias/variance, per-layer gradient health, divergence, learning curves.
- :func:`improve` — diagnose → apply the advice → retrain → compare, for a number of rounds.
- :func:`baselines` — classical scikit-learn models on the same split.
- :func:`learning_curve` — errors against the training-set size.

Example:
    >>> from neuralab.doctor import bias_variance
    >>> bias_variance(train_error=0.15, dev_error=0.35).verdict
    'high_bias_high_variance'
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "bias_variance": "neuralab.doctor.bias_and_variance", "BiasVariance": "neuralab.doctor.bias_and_variance",
    "Advice": "neuralab.doctor.advice", "apply_advice": "neuralab.doctor.advice",
    "diagnose": "neuralab.doctor.diagnosis", "Diagnosis": "neuralab.doctor.diagnosis",
    "improve": "neuralab.doctor.rounds", "baselines": "neuralab.doctor.classical",
    "learning_curve": "neuralab.doctor.curves",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    # Lazy, so `bias_variance` answers without importing torch.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuralab.doctor' has no attribute {name!r}")
