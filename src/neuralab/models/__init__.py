"""Networks and their parts: activations, initialisations, the MLP builder."""
from neuralab.models.mlp import MLP, build_model, layer_summary

__all__ = ["MLP", "build_model", "layer_summary"]
