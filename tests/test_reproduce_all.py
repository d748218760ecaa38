"""The README's main job: `matrix-nb reproduce` on the smoke profile runs every repro notebook without a failure."""
import json

import pytest

from conftest import ROOT, run_cli
from matrix_nb.core.report import ITEMS
from matrix_nb.core.repro import repro_notebooks


@pytest.mark.slow
@pytest.mark.timeout(3600)        # the whole smoke chain; pytest.ini's 1800 s default is too short on a loaded machine
def test_smoke_reproduce_everything(tmp_path):
    out, runs = tmp_path / "reports", tmp_path / "runs"
    r = run_cli("reproduce", "--profile", "smoke", "--out", out, "--runs", runs, timeout=3600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    nbs = repro_notebooks(ROOT / "nbs")
    for nb in nbs:
        rec = json.loads((out / nb.paper / f"{nb.id}.json").read_text())
        assert rec["status"] != "not yet implemented", nb.name
        if rec["profile"] == "smoke":
            assert rec["status"] != "reproduced", f"{nb.name}: a smoke run cannot claim 'reproduced'"
    idx = (out / "index.md").read_text()
    assert all(f"`{it.name}`" in idx for it in ITEMS)
    (run_dir,) = runs.glob("reproduce-*")
    times = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    print("\n".join(f"{t['notebook']:45s} {t['seconds']:7.1f} s" for t in times))
