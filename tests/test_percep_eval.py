"""`matrix-nb percep eval` in a subprocess on the smoke config: synthetic scenes from `percep make-data`, a detector
from a short `percep train`, then the evaluation (every method, a threshold and a skip_scale sweep, a stage-2 codebook)
with its run directory (resolved config, provenance, results.jsonl, metrics.json), a resumed rerun, and bad configs
(exit 2, one line naming the file and key)."""
import json

import pytest

from conftest import ROOT, run_cli

SMOKE_TRAIN = ROOT / "configs" / "pragcomm_smoke_train.yaml"
SMOKE_EVAL = ROOT / "configs" / "pragcomm_smoke_eval.yaml"


def one_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.slow
def test_eval_smoke_config(tmp_path):
    data = tmp_path / "synth"
    r = run_cli("percep", "make-data", "--out", data, "--scenes", "2", "--fractions", "0.5,0,0.5", "--frames", "4", "--vehicles", "8", "--agents", "2",
                "--seed", "3", "--set", "rings=16", "--set", "h_res=0.8", "--runs", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    det = tmp_path / "det"
    r = run_cli("percep", "train", "--config", SMOKE_TRAIN, "--set", f"data={data}", "--set", "max_steps=4", "--out", det)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "eval"
    args = ["percep", "eval", "--config", SMOKE_EVAL, "--set", f"checkpoint={det / 'model.pt'}",
            "--set", "thre_sweep=[0.0, 0.9]", "--set", "codebook_sweep=[]", "--set", "skip_sweep=[2]",
            "--set", "pose_noise_sweep=[]", "--set", "latency_sweep=[1]", "--set", "robust_methods=[dense]",
            "--set", "stage_sizes=[16, 16]", "--set", "codebook_steps=2", "--set", "codebook_fit_steps=10",
            "--set", "codebook_init_frames=2", "--out", out]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    assert "eval: 12 settings (12 computed, 0 reused)" in r.stdout, r.stdout
    m = json.loads((out / "metrics.json").read_text())
    rows = {(x["method"], x["sweep"], x["comm_thre"], x["skip_scale"], x["latency"]): x for x in m["rows"]}
    assert len(rows) == 12
    for x in m["rows"]:
        assert {"ap30", "ap50", "ap70", "bytes_per_frame", "formula_bytes_per_frame", "bytes_per_link", "MOTA", "MOTP",
                "HOTA"} <= set(x), sorted(x)
    point = {x["method"]: x for x in m["rows"] if x["sweep"] == "point"}
    assert point["no_fusion"]["bytes_per_frame"] == 0
    assert point["dense"]["formula_bytes_per_frame"] == 32 * 32 * 16 * 4            # one link, 32x32 cells, 16 channels
    assert point["dense"]["bytes_per_frame"] > point["dense"]["formula_bytes_per_frame"]   # header on the wire
    w0, w9 = rows[("where2comm", "thre", 0.0, 1, 0)], rows[("where2comm", "thre", 0.9, 1, 0)]
    assert w0["rate"] > 0.5 and w9["rate"] <= w0["rate"]
    assert rows[("pragcomm", "skip", 0.01, 2, 0)]["exchange_share"] == 0.5
    cfg = (out / "config.yaml").read_text()
    assert "stage_sizes:" in cfg and json.loads((out / "provenance.json").read_text())["status"] == "ok"
    assert len((out / "results.jsonl").read_text().splitlines()) == 12
    r = run_cli(*args)                                                                # resume: nothing recomputed
    assert r.returncode == 0 and "(0 computed, 12 reused)" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("text,expect", [
    ("checkpoint: x.pt\nmethod: [dense]\n", "method: unknown key"),
    ("checkpoint: x.pt\nmethods: [dense, v2vnet]\n", "methods: unknown method(s) ['v2vnet']"),
    ("checkpoint: x.pt\nthre_sweep: [2.0]\n", "thre_sweep: thresholds must be in [0, 1]"),
    ("methods: [dense]\n", "checkpoint: required"),
    ("checkpoint: x.pt\nskip_sweep: [0]\n", "skip_sweep: must be >= 1"),
])
def test_eval_bad_config(tmp_path, text, expect):
    c = tmp_path / "c.yaml"
    c.write_text(text)
    r = run_cli("percep", "eval", "--config", c, "--runs", tmp_path / "runs")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "c.yaml" in line and expect in line, line


def test_eval_missing_checkpoint(tmp_path):
    r = run_cli("percep", "eval", "--config", SMOKE_EVAL, "--set", f"checkpoint={tmp_path / 'none.pt'}",
                "--runs", tmp_path / "runs")
    assert r.returncode == 2
    assert "checkpoint: checkpoint not found" in one_line(r.stderr)
