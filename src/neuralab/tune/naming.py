"""Which study a search opens: a fresh one unless the caller asks to continue one, and its folder.

Running the same ``neuralab tune`` or ``sweep`` twice must not fail: without a study name
and without ``resume``, a search starts a *new* study named after the spec (``digits-mlp``,
then ``digits-mlp-2``, ``digits-mlp-3``…) in its own folder (``runs/digits-mlp-tune``,
``runs/digits-mlp-2-tune``…). To continue a study, ask for it: ``resume=True``
(``--resume``) continues the newest study of that spec, or the one named by ``study_name``
(``--study NAME``). A study *named* by the caller that already exists is refused without
``resume``, saying how to continue it or start another.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> first = choose_study(out, base="digits-mlp", suffix="-tune", existing=[])
    >>> (first.name, first.folder.name)
    ('digits-mlp', 'digits-mlp-tune')
    >>> choose_study(out, base="digits-mlp", suffix="-tune", existing=[]).name  # its folder is taken now
    'digits-mlp-2'
    >>> choose_study(out, base="digits-mlp", suffix="-tune", existing=[], resume=True).name  # the newest
    'digits-mlp'
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from neuralab.errors import RunError
from neuralab.tune.storage import STUDY_FILE

MAX_FRESH = 10_000  # fresh names tried before giving up (a folder full of studies is a mistake)


@dataclass(frozen=True)
class StudyTarget:
    """The study to open and the folder its outputs go to."""

    name: str
    folder: Path
    fresh: bool  # a new name was chosen (nothing of that name existed)


def choose_study(out_dir: str | Path, *, base: str, suffix: str, existing: Iterable[str],
                 study_name: str | None = None, resume: bool = False, shared_storage: bool = False,
                 where: str = "the storage") -> StudyTarget:
    """Pick the study a search opens and claim its folder ``out_dir/<name><suffix>``.

    Args:
        out_dir: parent of the study folders.
        base: the default name (the spec's name; a sweep's ``<name>-sweep-<field>``).
        suffix: appended to the study name to make its folder (``-tune``; ``""`` for sweeps).
        existing: names of the studies already in a shared storage (empty for the default,
            one SQLite file per folder, where the folders tell).
        study_name: the name the caller asked for, or None.
        resume: continue the named study, or the newest one of ``base``.
        shared_storage: the study lives in a storage of its own (``--storage``), not in the folder.
        where: the storage, for messages (password hidden).

    Raises:
        RunError: a named study exists and ``resume`` is off.
    """
    out_dir = Path(out_dir)
    existing = set(existing)
    if study_name is not None:
        folder = out_dir / f"{study_name}{suffix}"
        found = study_name in existing or (not shared_storage and (folder / STUDY_FILE).is_file())
        if found and not resume:
            raise RunError(f"study {study_name!r} already exists in {where}: to continue it pass resume=True "
                           f"(--resume), to start another give a new study_name (--study NEW_NAME) or "
                           f"leave it out for a fresh name")
        return StudyTarget(study_name, folder, fresh=not found)
    if resume:
        newest = _newest(out_dir, base=base, suffix=suffix, existing=existing, shared_storage=shared_storage)
        name = newest or base
        return StudyTarget(name, out_dir / f"{name}{suffix}", fresh=newest is None)
    return _claim_fresh(out_dir, base=base, suffix=suffix, existing=existing)


def _numbered(base: str, number: int) -> str:
    return base if number == 1 else f"{base}-{number}"


def _claim_fresh(out_dir: Path, *, base: str, suffix: str, existing: set[str]) -> StudyTarget:
    """The first free name of base, base-2, base-3…; its folder is created here (mkdir is the claim)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for number in range(1, MAX_FRESH + 1):
        name = _numbered(base, number)
        if name in existing:
            continue
        folder = out_dir / f"{name}{suffix}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return StudyTarget(name, folder, fresh=True)
    raise RunError(f"study: {out_dir} already holds {MAX_FRESH} studies named {base!r}; give --study NAME")


def _newest(out_dir: Path, *, base: str, suffix: str, existing: set[str], shared_storage: bool) -> str | None:
    """The study of ``base`` with the highest number that exists (in the storage, or as a folder's study.db)."""
    pattern = re.compile(rf"^{re.escape(base)}(?:-(\d+))?$")
    if shared_storage:
        names = existing
    else:
        names = {path.parent.name.removesuffix(suffix) for path in out_dir.glob(f"*{suffix}/{STUDY_FILE}")
                 if not suffix or path.parent.name.endswith(suffix)}
    numbered = [(int(match.group(1) or 1), name) for name in names if (match := pattern.match(name))]
    return max(numbered)[1] if numbered else None
