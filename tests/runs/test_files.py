"""Every file goes through one writer: atomic, standard JSON, one CSV form, figures, claimed folders;
a file system that refuses (a full disk, a directory, /proc) gives one line and leaves nothing partial."""
from __future__ import annotations

import builtins
import errno
import json
import math
import os
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import neuralab  # noqa: E402
from neuralab.cli import main  # noqa: E402
from neuralab.errors import STORAGE_EXIT_CODE, StorageError  # noqa: E402
from neuralab.runs import files  # noqa: E402
from neuralab.runs.files import check_output_file, claim_folder, remove_temporaries, write_text_atomic  # noqa: E402
from neuralab.runs.listing import run_status  # noqa: E402


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    files.write_text_atomic(path, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(files.StorageError, match="No space left on device — the disk is full"):
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
    (tmp_path / ".summary.json.tmp-999999999").write_text("half")  # no such process
    (tmp_path / "summary.json").write_text("{}")
    assert files.remove_temporaries(tmp_path) == 1 and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


SPEC = {"name": "disk", "data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
        "train": {"epochs": 3, "batch_size": 8, "checkpoint_every": 1}}


class FullDisk:
    """An ``open`` for neuralab.runs.files whose writes fail with ENOSPC once ``allowed`` writes succeeded."""

    def __init__(self, allowed: int = 0, *, only: str = ""):
        self.allowed, self.only, self.writes = allowed, only, 0

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = builtins.open(path, mode, *args, **kwargs)
        if "r" in mode or self.only not in str(path):
            return handle
        disk = self

        class Refusing:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

            def write(self, data):
                disk.writes += 1
                if disk.writes > disk.allowed:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                return handle.write(data)
        return Refusing()


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "note.txt"
    write_text_atomic(target, "old")
    monkeypatch.setattr(files, "open", FullDisk(), raising=False)
    with pytest.raises(StorageError, match=r"cannot write '.*note.txt': No space left on device — the disk is full"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]


def test_folders_that_cannot_be_made_are_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="File exists — a file of that name is in the way"):
        claim_folder(tmp_path / "file", "run")
    with pytest.raises(StorageError, match="is a directory; give a file name"):
        check_output_file(tmp_path)
    with pytest.raises(StorageError, match="is a file, so"):
        check_output_file(tmp_path / "file" / "out.csv")
    check_output_file(tmp_path / "new" / "out.csv")  # a missing folder is made when the file is written


def test_temporaries_of_a_killed_writer_are_found_in_sub_folders(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    writing = f".b.json.tmp-{os.getpid()}"  # a writer that still runs: its file stays
    for name in (".a.json.tmp-999999999", "checkpoint/.checkpoint.json.tmp-999999998", "keep.json", writing):
        (tmp_path / name).write_text("x")
    assert remove_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [writing, "keep.json"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return neuralab.train(SPEC, out_dir=tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("output, message", [
    ("{tmp}", "is a directory; give a file name"),
    ("/proc/neuralab-predictions.csv", "cannot write '/proc/neuralab-predictions.csv'"),
    ("{tmp}/file.txt/p.csv", "is a file, so"),
], ids=["directory", "proc", "under-a-file"])
def test_predict_output_that_cannot_be_written_is_one_line(finished, tmp_path, capsys, output, message):
    (tmp_path / "file.txt").write_text("x")
    inputs = tmp_path / "new.csv"
    inputs.write_text("x1,x2\n1,2\n")
    code = main(["predict", str(finished.dir), "--input", str(inputs), "--output", output.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == STORAGE_EXIT_CODE and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_predict_on_a_full_disk_leaves_no_partial_file(finished, tmp_path, monkeypatch, capsys):
    inputs = tmp_path / "new.csv"
    inputs.write_text("x1,x2\n" + "1,2\n" * 50)
    monkeypatch.setattr(files, "open", FullDisk(), raising=False)
    output = tmp_path / "missing" / "predictions.csv"  # a missing folder is made
    assert main(["predict", str(finished.dir), "--input", str(inputs), "--output", str(output)]) == STORAGE_EXIT_CODE
    assert "No space left on device" in capsys.readouterr().err
    assert list((tmp_path / "missing").iterdir()) == []


@pytest.mark.parametrize("allowed, only, kept", [
    (0, "spec.yaml", False),             # full at start: no empty run directory
    (0, "state-e000000", False),         # full at the first checkpoint: nothing to resume, nothing kept
    (0, "state-e000002", True),          # full mid-run: the previous checkpoint stays, resumable
], ids=["start", "first-checkpoint", "mid-run"])
def test_a_full_disk_while_training_is_one_line_and_leaves_a_resumable_run_or_nothing(
        tmp_path, monkeypatch, capsys, allowed, only, kept):
    spec = tmp_path / "disk.yaml"
    spec.write_text("data: {dataset: xor, n_samples: 60}\nmodel: {hidden: [4]}\n"
                    "train: {epochs: 3, batch_size: 8, checkpoint_every: 1}\n")
    monkeypatch.setattr(files, "open", FullDisk(allowed, only=only), raising=False)
    out = tmp_path / "runs"
    assert main(["train", str(spec), "--out", str(out), "--quiet"]) == STORAGE_EXIT_CODE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "Traceback" not in err[0]
    runs = list(out.iterdir())
    if not kept:
        assert runs == [] and "nothing of the run was kept" in err[0]
        return
    assert len(runs) == 1 and "--resume" in err[0]
    assert not list(runs[0].rglob("*.tmp-*"))
    assert run_status(runs[0]) == "interrupted"
    monkeypatch.undo()  # space again
    resumed = neuralab.resume(runs[0])
    straight = neuralab.train(spec, out_dir=None)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in straight.history]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.history] == strip
    assert all(np.array_equal(a.detach(), b.detach())
               for a, b in zip(resumed.model.parameters(), straight.model.parameters()))
