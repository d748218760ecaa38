"""nbs/ is the source of truth: the exported library must match it, notebooks must be clean, and every inline test must pass."""
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def tree_hash(folder: Path, pattern: str) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob(pattern)) if ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


def test_export_matches_library():
    "Running nbdev_export changes nothing in matrix_nb/ (the library was exported from these notebooks)."
    before = tree_hash(ROOT / "matrix_nb", "*.py")
    r = subprocess.run([BIN / "nbdev_export"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    after = tree_hash(ROOT / "matrix_nb", "*.py")
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"nbdev_export changed {changed}: export the notebooks and commit notebook and library together"


def test_notebooks_are_clean():
    "nbdev_clean changes nothing: notebooks carry no noisy metadata."
    before = tree_hash(ROOT / "nbs", "*.ipynb")
    r = subprocess.run([BIN / "nbdev_clean"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    after = tree_hash(ROOT / "nbs", "*.ipynb")
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert not changed, f"nbdev_clean changed {changed}: run nbdev_clean and commit"


@pytest.mark.timeout(3600)        # every notebook with its slow cells; pytest.ini's 1800 s default is too short on a loaded machine
def test_inline_notebook_tests(request):
    "Every module notebook's cells run without error (nbdev_test); the all tier also runs cells flagged slow/vllm."
    flags = "slow vllm" if request.config.getoption("--tier") == "all" else ""
    cmd = [str(BIN / "nbdev_test"), "--n_workers", "2", "--timing"] + (["--flags", flags] if flags else [])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-60:])
    assert r.returncode == 0, tail
    print(tail)
