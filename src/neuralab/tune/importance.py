"""Which hyperparameters mattered: Optuna's importance evaluators over a study's complete trials.

fANOVA (the default) splits the variance of the dev error between the parameters;
``mdi`` uses a random forest's mean decrease in impurity; ``ped-anova`` compares the
best trials' values with all trials'. Each is seeded, so the numbers repeat.

Example:
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0 * t.suggest_float("y", -1, 1), n_trials=30)
    >>> max(param_importances(study).items(), key=lambda kv: kv[1])[0]
    'x'
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.errors import RunError, not_one_of


def _fanova(seed: int) -> Any:
    import optuna

    return optuna.importance.FanovaImportanceEvaluator(seed=seed)


def _mdi(seed: int) -> Any:
    import optuna

    return optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=seed)


def _ped_anova(seed: int) -> Any:
    import optuna

    return optuna.importance.PedAnovaImportanceEvaluator()


EVALUATORS: dict[str, Callable[[int], Any]] = {"fanova": _fanova, "mdi": _mdi, "ped-anova": _ped_anova}


def param_importances(study: Any, *, evaluator: str = "fanova", seed: int = 0) -> dict[str, float]:
    """Importance of each parameter for the dev error, summing to 1, most important first.

    Args:
        study: an ``optuna.Study``.
        evaluator: fanova (default), mdi or ped-anova (see :data:`EVALUATORS`).
        seed: seed of the evaluator (default 0).

    Raises:
        RunError: an unknown evaluator, or too few complete trials with varying parameters.
    """
    import optuna

    if evaluator not in EVALUATORS:
        raise RunError(not_one_of("--evaluator", evaluator, list(EVALUATORS)))
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        raise RunError(f"importance: study {study.study_name!r} has {len(complete)} complete trial(s); "
                       "importance needs at least 2")
    try:
        scores = optuna.importance.get_param_importances(study, evaluator=EVALUATORS[evaluator](seed))
        return {name: float(value) for name, value in scores.items()}  # plain floats, not np.float64
    except (RuntimeError, ValueError) as error:  # e.g. no parameter common to all trials
        raise RunError(f"importance: cannot be computed for study {study.study_name!r}: {error}") from None


def load_study(source: str, *, study_name: str | None = None) -> Any:
    """Open a study from a tune folder, a ``.db`` file or a storage URL.

    Args:
        source: see :func:`neuralab.tune.storage.storage_url_of`.
        study_name: needed when the storage holds several studies (default: its only one).

    Raises:
        RunError: no such storage or study, or several studies and no name.
    """
    import optuna

    from neuralab.tune.storage import open_storage, storage_url_of, study_names

    url = storage_url_of(source)
    storage = open_storage(url, heartbeat_seconds=None)
    names = study_names(storage)
    if study_name is None:
        if len(names) != 1:
            raise RunError(f"--study: {source!r} holds {len(names)} studies ({', '.join(names) or 'none'}); "
                           "name one with --study")
        study_name = names[0]
    if study_name not in names:
        raise RunError(not_one_of("--study", study_name, names) if names else f"--study: {source!r} holds no study")
    return optuna.load_study(study_name=study_name, storage=storage)
