"""The declared table: every implementation registry covers exactly the catalog's names."""
from __future__ import annotations

from neuralab.spec import catalog
from neuralab.models.activations import ACTIVATIONS
from neuralab.models.init import INITS
from neuralab.models.kinds import MODEL_KINDS, kinds_for
from neuralab.training.losses import LOSSES
from neuralab.training.optim import TORCH_OPTIMIZERS as OPTIMIZERS
from neuralab.training.schedules import SCHEDULES


def test_registries_match_the_catalog():
    assert set(ACTIVATIONS) == set(catalog.ACTIVATIONS)
    assert set(INITS) == set(catalog.INITS)
    assert set(OPTIMIZERS) == set(catalog.OPTIMIZERS)
    assert set(SCHEDULES) == set(catalog.SCHEDULES)
    assert set(LOSSES) | {"auto"} == set(catalog.LOSSES)
    kinds_for("tabular")  # loads the built-in model kinds
    assert set(MODEL_KINDS) == set(catalog.MODEL_KINDS)
    for name, kind in MODEL_KINDS.items():  # what the catalog says of each kind is what its registry entry does
        assert catalog.MODEL_KINDS[name].properties["data"] == ", ".join(kind.data_kinds)
        assert catalog.MODEL_KINDS[name].properties["population"] == ("yes" if kind.population else "no")


def test_lecture_minimums():
    assert len(catalog.ACTIVATIONS) >= 10
    assert {"sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam"} <= set(catalog.OPTIMIZERS)
    assert {"zeros", "xavier_uniform", "he_normal"} <= set(catalog.INITS)


def test_every_entry_explains_itself():
    for table in catalog.TABLES.values():
        for name, entry in table.items():
            assert entry.name == name and entry.summary
