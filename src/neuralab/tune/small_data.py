"""When a study's dev split is too small to choose on, say so.

The best of many trials chosen on a few dev rows is chosen partly by luck: on breast
cancer's 114 dev rows one row is 0.88 points of error, a "best" dev error of 0.9 % was one
mistake, and the retrained network did worse on the test split than the default one.
Below :data:`SMALL_DEV_ROWS` dev rows a search without cross-validation gets a warning
that says how much one row weighs and what to do instead (``--cv 5``).

Example:
    >>> from neuralab.data import load_data
    >>> from neuralab.spec import DataSpec
    >>> lines = small_dev_warnings(load_data(DataSpec(dataset="breast_cancer"), seed=0), trials=30)
    >>> "114 rows" in lines[0] and "--cv 5" in lines[0]
    True
"""
from __future__ import annotations

from neuralab.data import DataBundle

SMALL_DEV_ROWS = 500  # below this, one row moves the dev error by more than 0.2 points


def small_dev_warnings(bundle: DataBundle, *, trials: int, cv: int | None = None) -> list[str]:
    """Lines warning that the dev split is too small to pick the best of ``trials`` (none with ``cv``)."""
    if cv or bundle.n_dev >= SMALL_DEV_ROWS or trials < 2:
        return []
    return [f"the dev split has only {bundle.n_dev} rows (one row is {1 / bundle.n_dev:.2%} of dev error): the "
            f"best of {trials} trials is chosen partly by luck and its dev error is optimistic — cross-validate "
            "on the train + dev rows with --cv 5 (cv=5 in Python), and judge the best spec by its test error"]
