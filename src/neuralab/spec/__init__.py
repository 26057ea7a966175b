"""The spec: the one source of truth for an experiment, and the catalog of names it may use.

* :mod:`~neuralab.spec.fields` — :class:`ExperimentSpec` and its sections, every field with a
  default, a range and a meaning;
* :mod:`~neuralab.spec.catalog` — the one table of every choice (optimisers, activations,
  data sets…) and the families derived from its properties;
* :mod:`~neuralab.spec.loading` — files, mappings, ``--set`` overrides, validation, YAML out;
* :mod:`~neuralab.spec.problems` — pydantic errors as one line per problem;
* :mod:`~neuralab.spec.reference` — the field table ``neuralab info spec`` prints.

Example:
    >>> from neuralab.spec import load_spec
    >>> load_spec({"data": {"dataset": "spiral"}}, overrides={"train.epochs": 5}).train.epochs
    5
"""
from neuralab.spec.fields import (MAX_PARAMETERS, MAX_SEED, MAX_SPEC_BYTES, DataSpec, DiagnoseSpec,
                                  EarlyStoppingSpec, ExperimentSpec, ModelSpec, RecurrentSpec, ScheduleSpec,
                                  TrainSpec, TransformerSpec)
from neuralab.spec.loading import (dump_spec, load_spec, parse_yaml, read_spec_file, set_dotted, spec_to_dict,
                                   validate_spec)

__all__ = ["MAX_PARAMETERS", "MAX_SEED", "MAX_SPEC_BYTES", "DataSpec", "DiagnoseSpec", "EarlyStoppingSpec",
           "ExperimentSpec", "ModelSpec", "RecurrentSpec", "ScheduleSpec", "TrainSpec", "TransformerSpec",
           "dump_spec", "load_spec", "parse_yaml", "read_spec_file", "set_dotted", "spec_to_dict", "validate_spec"]
