"""A really full disk (a tiny tmpfs in a user namespace): one line, exit 4, a resumable run or nothing.

Runs where ``unshare -rm`` may mount a tmpfs (Linux with user namespaces); skipped elsewhere.
The monkeypatched variants of the same cases run everywhere (tests/runs/test_files.py).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("neuralab")


def namespaces_work() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True, timeout=30)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not namespaces_work(), reason="cannot mount a tmpfs in a user namespace here")

STEPS = r"""
set -u
disk="$1"; neuralab="$2"; spec="$3"
mount -t tmpfs -o size=200k tmpfs "$disk"
fill() { head -c "$1" /dev/zero > "$disk/filler" 2>/dev/null; true; }
fill 300000
"$neuralab" train "$spec" --out "$disk/runs" --quiet; echo "start exit $?"; ls "$disk/runs" | wc -l | sed 's/^/start runs /'
rm -f "$disk/filler"; fill 150000
"$neuralab" train "$spec" --out "$disk/runs" --quiet; echo "mid exit $?"
run=$(ls -d "$disk"/runs/*); ls -A "$run/checkpoint" | sed 's/^/mid file /'
rm -f "$disk/filler"
"$neuralab" train --resume "$run" --quiet; echo "resume exit $?"
printf 'x1,x2\n' > "$disk/new.csv"; for i in $(seq 2000); do printf '1,2\n' >> "$disk/new.csv"; done
fill 300000
"$neuralab" predict "$run" --input "$disk/new.csv" --output "$disk/predictions.csv"; echo "predict exit $?"
ls -A "$disk" | sed 's/^/predict file /'
"""


def test_a_real_full_disk(tmp_path):
    spec = tmp_path / "spiral.yaml"
    spec.write_text("name: full\ndata: {dataset: spiral, n_samples: 100}\nmodel: {hidden: [8]}\n"
                    "train: {epochs: 3, batch_size: 16, checkpoint_every: 1}\ndiagnose: {health_every: 0}\n")
    disk = tmp_path / "disk"
    disk.mkdir()
    result = subprocess.run(["unshare", "-rm", "bash", "-c", STEPS, "steps", str(disk), str(SCRIPT), str(spec)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    out, err = result.stdout, result.stderr
    assert "Traceback" not in err, err
    assert "start exit 4" in out and "start runs 0" in out  # full at start: no empty run directory
    assert "mid exit 4" in out and "mid file checkpoint.json" in out and ".tmp-" not in out
    assert "resume exit 0" in out  # space again: the run resumes and finishes
    assert "predict exit 4" in out and "predict file predictions.csv" not in out  # nothing partial
    problems = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(problems) == 3 and all("No space left on device" in line for line in problems), err
