"""Every file goes through one writer: atomic, standard JSON, one CSV form, figures, claimed folders."""
from __future__ import annotations

import json
import math
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from neuralab.runs import files  # noqa: E402


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    files.write_text_atomic(path, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError):
        files.write_text_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["note.txt"]


def test_json_is_standard_even_with_non_finite_numbers(tmp_path):
    files.write_json(tmp_path / "a.json", {"loss": math.nan, "rows": [math.inf, 1.0]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"loss": None, "rows": [None, 1.0]}


def test_csv_columns_are_the_union_in_first_seen_order(tmp_path):
    files.write_csv(tmp_path / "m.csv", [{"epoch": 1, "a": 0.5}, {"epoch": 2, "b": [1, 2]}])
    assert (tmp_path / "m.csv").read_text().splitlines() == ["epoch,a,b", "1,0.5,", '2,,"[1, 2]"']
    files.append_text(tmp_path / "m.csv", files.csv_text([{"epoch": 3}], ["epoch", "a", "b"], header=False))
    assert (tmp_path / "m.csv").read_text().splitlines()[-1] == "3,,"


def test_figures_are_saved_atomically_and_closed(tmp_path):
    figure = plt.figure()
    files.save_figure(figure, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG" and not plt.fignum_exists(figure.number)


def test_folders_are_claimed_once_even_by_racing_threads(tmp_path):
    claimed = []
    threads = [threading.Thread(target=lambda: claimed.append(files.claim_folder(tmp_path, "run"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(claimed)) == 8 and all(path.is_dir() for path in claimed)


def test_temporaries_a_killed_writer_left_are_removed(tmp_path):
    (tmp_path / ".summary.json.tmp-123").write_text("half")
    (tmp_path / "summary.json").write_text("{}")
    assert files.remove_temporaries(tmp_path) == 1 and [p.name for p in tmp_path.iterdir()] == ["summary.json"]
