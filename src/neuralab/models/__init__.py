"""Networks and their parts: the model-kind registry, the MLP, activations, initialisations.

Example:
    >>> from neuralab.models import MODEL_KINDS, build_model, ModelShape
    >>> from neuralab.spec import ModelSpec
    >>> type(build_model(ModelSpec(hidden=[3]), ModelShape(n_inputs=2, n_outputs=1))).__name__
    'MLP'
"""
from neuralab.models.kinds import (MODEL_KINDS, ModelKind, ModelShape, build_model, describe_layers, kind_of,
                                   kinds_for)
from neuralab.models.mlp import MLP, layer_summary

__all__ = ["MLP", "MODEL_KINDS", "ModelKind", "ModelShape", "build_model", "describe_layers", "kind_of", "kinds_for",
           "layer_summary"]
