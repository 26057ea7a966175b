"""Model kinds: the registry covers the catalog, builds by kind, and refuses oversized networks first."""
from __future__ import annotations

import pytest

from neuralab.errors import SpecError
from neuralab.models import MODEL_KINDS, ModelShape, build_model, describe_layers
from neuralab.models.kinds import ModelKind, kind_of, register
from neuralab.spec import ModelSpec
from neuralab.spec.catalog import family, names


def test_every_catalog_kind_is_registered_and_only_those():
    kind_of(ModelSpec())  # loads the built-in kinds
    assert set(MODEL_KINDS) == set(names("model_kinds"))
    assert {name for name, kind in MODEL_KINDS.items() if kind.population} == set(
        family("model_kinds", "population", "yes"))


def test_a_kind_outside_the_catalog_cannot_register():
    with pytest.raises(ValueError, match="not in neuralab.spec.catalog.MODEL_KINDS"):
        register(ModelKind(name="perceptron2000", build=None, count_parameters=None, data_kinds=(),
                           describe=None, size_of=None))


def test_the_parameter_limit_is_checked_before_anything_is_built():
    with pytest.raises(SpecError, match=r"model\.hidden: \[4096, 2048\] with 20,000 inputs"):
        build_model(ModelSpec(hidden=[4096, 2048]), ModelShape(n_inputs=20_000, n_outputs=10))


def test_layers_are_described_per_kind():
    model = build_model(ModelSpec(hidden=[3]), ModelShape(n_inputs=2, n_outputs=4))
    assert [row["layer"] for row in describe_layers(model, kind="mlp")] == ["hidden1", "output"]
