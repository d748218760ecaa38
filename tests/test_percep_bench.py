"""The PragComm end-to-end benchmark (benchmarks/pragcomm_volume.py) at its smallest settings: it trains stage 1,
stage 2, the joint fine-tuning (from stage 2's codebook) and the dense continuation, evaluates on held-out scenes,
prints the documented last line, and a rerun reuses the checkpoints."""
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from matrix_nb.percep.train import load_checkpoint

LINE = re.compile(r"^pragcomm_volume: ap50_pragcomm=(\S+) ap50_dense=(\S+) ap50_nofusion=(\S+) "
                  r"bytes_per_frame=(\S+) volume_ratio=(\S+)$")


def run_bench(out, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pragcomm_volume.py"), "--tiny", "--scenes", "2",
                           "--frames", "2", "--steps", "2", "--stage2-steps", "1", "--joint-steps", "1", "--sweep", "0.01,0.01:1",
                            "--out", str(out), *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


@pytest.mark.slow
def test_pragcomm_volume_smallest(tmp_path):
    r = run_bench(tmp_path / "bench")
    assert r.returncode == 0, r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    m = LINE.match(last)
    assert m, last
    ap_p, ap_d, ap_n, b, ratio = (float(x) for x in m.groups())
    assert all(0 <= x <= 1 for x in (ap_p, ap_d, ap_n)) and b >= 0 and ratio > 0
    for d in ("stage1", "stage2", "dense_cont", "joint"): assert (tmp_path / "bench" / d / "model.pt").is_file()
    assert "pragcomm messages: compact header" in r.stdout and "pragcomm thre=0.01 r=1" in r.stdout, r.stdout
    assert (tmp_path / "bench" / "index_coder.json").is_file() or "nothing was sent on the training frames" in r.stdout
    r2 = run_bench(tmp_path / "bench")                      # rerun: scenes and checkpoints reused, same line
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert "(2 reused)" in r2.stdout and "2 steps" in r2.stdout, r2.stdout
    assert r2.stdout.strip().splitlines()[-1] == last
    r3 = run_bench(tmp_path / "bench", "--joint-select", "topk_uniform", "--joint-ratio", "0,1")   # Where2comm's proxy
    assert r3.returncode == 0, r3.stderr[-2000:]
    assert "joint fine-tuning (topk_uniform 0-1)" in r3.stdout, r3.stdout
    assert (tmp_path / "bench" / "joint-topk_uniform-0-1" / "model.pt").is_file()
    r4 = run_bench(tmp_path / "bench", "--grow-blocks", "2")       # message encoder deepened at fine-tuning
    assert r4.returncode == 0, r4.stderr[-2000:]
    assert "first stage grown to 2 blocks" in r4.stdout and LINE.match(r4.stdout.strip().splitlines()[-1]), r4.stdout
    for d in ("dense_cont-b2", "joint-b2"):
        ck = load_checkpoint(tmp_path / "bench" / d / "model.pt")
        assert "detector.backbone.stages.0.1.conv1.weight" in ck["model"], d
    r5 = run_bench(tmp_path / "bench", "--select", "boxes", "--box-score", "0")   # box-footprint selection
    assert r5.returncode == 0, r5.stderr[-2000:]
    assert "box selection (score > 0)" in r5.stdout and "pragcomm boxes thre=0.01" in r5.stdout, r5.stdout
    assert (tmp_path / "bench" / "joint-boxes0" / "model.pt").is_file() and LINE.match(r5.stdout.strip().splitlines()[-1])
    assert "where the AP goes" in r5.stdout and "collaborator-only" in r5.stdout, r5.stdout
    r6 = run_bench(tmp_path / "bench", "--select", "boxes", "--box-score", "0", "--eval-select", "both",   # same model, boxes + cells
                   "--eval-box-score", "0.1")                                                          # and another score cut
    assert r6.returncode == 0, r6.stderr[-2000:]
    assert "detections above 0.1, sent" in r6.stdout and "plus the cells above the threshold" in r6.stdout and "pragcomm both thre=0.01" in r6.stdout, r6.stdout
    assert "2 steps" in r6.stdout and LINE.match(r6.stdout.strip().splitlines()[-1]), r6.stdout       # joint-boxes0 reused
    r7 = run_bench(tmp_path / "bench", "--select", "both", "--box-score", "0", "--budget-ratio", "100", "--calib-frames", "2")
    assert r7.returncode == 0, r7.stderr[-2000:]                   # fine-tuned with boxes + cells; threshold fitted to a budget
    assert "box + cell selection (score > 0)" in r7.stdout and (tmp_path / "bench" / "joint-both0" / "model.pt").is_file(), r7.stdout
    fit = re.search(r"budget: ratio 100 with margin 0.1 = (\S+) B per link; threshold fitted on 2 training frames: (\S+) \((\S+) B", r7.stdout)
    assert fit, r7.stdout
    budget, thre, measured = float(fit[1]), float(fit[2]), float(fit[3])
    test_link = 32 * 64 * 64 * 4                                   # the tiny geometry's full float32 map
    assert abs(budget - test_link / 110) < 0.1 and measured <= budget and 0.1 <= thre <= 1
    assert f"pragcomm thre={thre:g}" in r7.stdout or f"pragcomm thre={thre}" in r7.stdout, r7.stdout   # the last line uses it
    assert LINE.match(r7.stdout.strip().splitlines()[-1]), r7.stdout
    r8 = run_bench(tmp_path / "bench", "--select", "boxes", "--box-score", "0", "--eval-select", "both", "--eval-send-boxes")
    assert r8.returncode == 0, r8.stderr[-2000:]                   # the requested boxes sent too (late channel)
    assert "the requested boxes are sent too" in r8.stdout and "boxes/frame)" in r8.stdout, r8.stdout
    assert LINE.match(r8.stdout.strip().splitlines()[-1]), r8.stdout


def test_pragcomm_volume_bad_joint_ratio(tmp_path):
    for bad in ("0.5,x", "0.3,0.1"):
        r = run_bench(tmp_path / "bench", "--joint-select", "topk_loguniform", "--joint-ratio", bad)
        assert r.returncode == 2 and "--joint-ratio" in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "bench").exists()                 # rejected before anything is written


def test_pragcomm_volume_bad_center_reg_radius(tmp_path):
    r = run_bench(tmp_path / "bench", "--head", "center", "--center-reg-radius", "-1")
    assert r.returncode == 2 and "--center-reg-radius" in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "bench").exists()                 # rejected before anything is written


def test_pragcomm_volume_bad_layer_nums(tmp_path):
    for flag, bad in (("--layer-nums", "3,x"), ("--layer-nums", "3,1"), ("--grow-blocks", "1")):
        r = run_bench(tmp_path / "bench", flag, bad)
        assert r.returncode == 2 and flag in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "bench").exists()                 # rejected before anything is written


def test_pragcomm_volume_bad_box_selection(tmp_path):
    for flag in ("--box-score", "--eval-box-score"):
        r = run_bench(tmp_path / "bench", "--select", "boxes", flag, "2")
        assert r.returncode == 2 and flag in r.stderr.strip().splitlines()[-1], r.stderr
    r = run_bench(tmp_path / "bench", "--select", "boxes", "--joint-steps", "0")
    assert r.returncode == 2 and "--select boxes" in r.stderr.strip().splitlines()[-1], r.stderr
    r = run_bench(tmp_path / "bench", "--eval-select", "both")
    assert r.returncode == 2 and "--eval-select" in r.stderr.strip().splitlines()[-1], r.stderr
    r = run_bench(tmp_path / "bench", "--select", "boxes", "--eval-select", "cells", "--eval-send-boxes")
    assert r.returncode == 2 and "--eval-send-boxes" in r.stderr.strip().splitlines()[-1], r.stderr
    for flag, bad in (("--budget-ratio", "-1"), ("--budget-lo", "1"), ("--calib-frames", "0")):
        r = run_bench(tmp_path / "bench", flag, bad)
        assert r.returncode == 2 and "--budget-ratio" in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "bench").exists()                 # rejected before anything is written
