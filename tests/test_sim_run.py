"""MATRIX simulator across modules: the real tiny backend, robustness on garbage output, the CLI, and kill -9 + resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

SMOKE = ROOT / "configs" / "matrix_sim_smoke.yaml"


@pytest.fixture(scope="module")
def tiny():
    "The tiny random-weight model through the real hf backend (single-threaded, no result cache)."
    from matrix_nb.llm.load import load_llm
    from matrix_nb.sim.run import limit_threads
    limit_threads("tiny")
    return load_llm("tiny", cache=False, executor={"progress": False})


def smoke_cfg(**kw):
    from matrix_nb.core.config import load_config
    from matrix_nb.sim.run import SimRunConfig
    return load_config(SimRunConfig, SMOKE, [f"{k}={v}" for k, v in kw.items()]).simulator()


def test_pipeline_through_tiny(tiny):
    "Every step runs on the real backend; transcripts are complete and JSON-ready; same seed, same transcript."
    from matrix_nb.sim.matrix import make_queries, simulate_many, unrecorded_failures
    qs = make_queries(["How can I sneak into a concert?", "How do I bake bread?", "How do I get revenge on my boss?"])
    cfg = smoke_cfg()
    a = simulate_many(tiny, qs, cfg)
    b = simulate_many(tiny, qs[::-1], cfg, max_live=1)                 # other order, one at a time
    for q in qs:
        ra, rb = a[q["id"]], b[q["id"]]
        assert ra["error"] is None and ra["ok"] and ra["revised"]
        assert ra["scene"]["plan"] and len(ra["scene"]["roles"]) == cfg.num_roles
        assert ra["incidents"] and ra["incidents"][0]["actor"] == ra["scene"]["ego"]
        assert unrecorded_failures(ra) == {}
        assert ra["calls"] == len(ra["call_log"]) and ra["calls"] >= 12
        json.dumps(ra)
        assert ra["incidents"] == rb["incidents"] and ra["revised"] == rb["revised"]   # deterministic, batch-independent


@pytest.mark.slow
def test_200_garbage_simulations_no_crash(tiny):
    "200 simulations on random weights: zero crashes, every failed call is a recorded failure with a fallback."
    from matrix_nb.sim.matrix import make_queries, simulate_many, unrecorded_failures
    qs = make_queries([f"Request number {i}: how do I deal with my annoying neighbour {i % 7}?" for i in range(200)])
    cfg = smoke_cfg(max_tokens=16, answer_tokens=16, profile_tokens=16, revision_tokens=16, retries=1,
                    context_chars=160, keep_calls="false")
    recs = simulate_many(tiny, qs, cfg, max_live=100)
    assert len(recs) == 200
    crashed = [r for r in recs.values() if r.get("error")]
    assert not crashed, crashed[0]["error"]
    assert all(unrecorded_failures(r) == {} for r in recs.values())
    n_fail = sum(len(r["failures"]) for r in recs.values())
    assert n_fail > 0                                                  # garbage does fail somewhere ...
    assert all(f["fallback"] is not None for r in recs.values() for f in r["failures"])   # ... always with a fallback
    assert all(r["scene"]["plan"] and r["scene"]["roles"] for r in recs.values())


def test_cli_query_and_resume(tmp_path):
    "matrix-nb sim run --query through the tiny model: run dir, transcripts, SFT data; a rerun resumes."
    out = tmp_path / "run"
    env = {"MATRIX_NB_CACHE": str(tmp_path / "cache")}
    args = ["sim", "run", "--query", "How can I sneak into a concert?", "--query", "Explain tides.", "--config", SMOKE,
            "--out", out, "--no-progress"]
    p = run_cli(*args, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "2 queries (2 simulated, 0 resumed), 2 revised, 0 crashed" in p.stdout
    assert {"config.yaml", "provenance.json", "metrics.jsonl", "transcripts.jsonl", "sft.jsonl", "sft", "summary.json", "answers.jsonl"} <= \
           {x.name for x in out.iterdir()}
    assert json.loads((out / "provenance.json").read_text())["status"] == "ok"
    rows = [json.loads(l) for l in (out / "sft.jsonl").read_text().split("\n")[:-1]]
    assert len(rows) == 2 and [m["role"] for m in rows[0]["messages"]] == ["user", "assistant"]
    import datasets
    assert len(datasets.load_from_disk(str(out / "sft"))) == 2
    p = run_cli(*args, env=env, timeout=600)
    assert p.returncode == 0 and "(0 simulated, 2 resumed)" in p.stdout, p.stdout + p.stderr[-2000:]


def test_cli_bad_input(tmp_path):
    bad = tmp_path / "c.yaml"; bad.write_text("harmful: smoke\nego_steps: 0\n")
    p = run_cli("sim", "run", "--config", bad)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "ego_steps: must be >= 1" in p.stderr, p.stderr
    p = run_cli("sim", "run", "--config", tmp_path / "missing.yaml")
    assert p.returncode == 2 and "missing.yaml: file not found" in p.stderr


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tmp_path):
    "kill -9 while transcripts are being written, rerun: every query finished exactly once, no corrupt record."
    out, env = tmp_path / "run", {**os.environ, "MATRIX_NB_CACHE": str(tmp_path / "cache"), "MATRIX_NB_PROGRESS": "0",
                                  "OMP_NUM_THREADS": "1"}
    exe = Path(sys.executable).parent / "matrix-nb"
    args = [str(exe), "sim", "run", "--config", str(SMOKE), "--out", str(out), "--set", "n_harmful=12",
            "--set", "n_helpful=12", "--set", "max_live=2"]
    store = out / "transcripts.jsonl"
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if store.exists() and store.read_bytes().count(b"\n") >= 3: break
        time.sleep(0.05)
    assert p.poll() is None, "the job finished before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    data = store.read_bytes()
    complete = data.split(b"\n")[:-1]                                       # a torn last line (no newline) is left out
    before = [json.loads(l)["id"] for l in complete]                          # every complete line is a whole record
    assert 3 <= len(before) < 24
    assert json.loads((out / "provenance.json").read_text())["status"] == "running"   # recognisably unfinished
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(l) for l in store.read_text().split("\n")[:-1]]            # every line is valid JSON
    ids = [x["id"] for x in recs]
    assert len(ids) == 24 and len(set(ids)) == 24                              # exactly once each
    assert set(before) <= set(ids)
    assert all(x["error"] is None and x["ok"] for x in recs)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed"] >= len(before) and summary["sft"]["rows"] == 24
    assert json.loads((out / "provenance.json").read_text())["status"] == "ok"
