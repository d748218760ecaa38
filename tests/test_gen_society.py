"""MATRIX-Gen society through the CLI with the tiny model: the scenario contract, resume (no new LLM call, no
duplicate id), and SIGKILL in the middle of a run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

SMOKE = ROOT / "configs" / "gen_society_smoke.yaml"
SCENARIO_KEYS = {"id", "text", "group", "agents", "step", "actions", "lineage", "members", "ok"}


def read_lines(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").split("\n") if l.strip()]


def check_run(out: Path) -> list[dict]:
    "The run's scenarios, after checking the contract with the synthesis side."
    scs = read_lines(out / "scenarios.jsonl")
    profiles = {p["id"]: p for p in read_lines(out / "profiles.jsonl")}
    assert scs, "no scenario"
    assert len({s["id"] for s in scs}) == len(scs), "duplicate scenario ids"
    for s in scs:
        assert SCENARIO_KEYS <= set(s), set(s)
        assert isinstance(s["text"], str) and s["text"]
        assert s["agents"] and set(s["agents"]) <= set(s["members"]) <= set(profiles)
        assert all(a["agent"] in s["agents"] and a["text"] for a in s["actions"])
        assert {"run", "seed"} <= set(s["lineage"])
        assert all(profiles[m]["group"] == s["group"] for m in s["members"])
    for p in profiles.values():
        assert {"id", "name", "description", "goal", "plan", "group"} <= set(p)
    return scs


@pytest.mark.slow
def test_cli_small_society_and_resume(tmp_path):
    "A small society from the smoke config: scenarios follow the contract; a rerun makes no LLM call and adds nothing."
    out, env = tmp_path / "run", {"MATRIX_NB_CACHE": str(tmp_path / "cache")}
    args = ["gen", "society", "--config", SMOKE, "n_agents=6", "n_groups=2", "plan_steps=2", "max_steps=2",
            "--out", out, "--no-progress"]
    p = run_cli(*args, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "6 agents in 2 groups (structured)" in p.stdout, p.stdout
    first = (out / "scenarios.jsonl").read_bytes()
    scs = check_run(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["crashed"] is False and summary["llm_requests"] > 0 and summary["scenarios"] == len(scs)
    assert json.loads((out / "provenance.json").read_text())["status"] == "ok"
    p = run_cli(*args, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "0 LLM requests" in p.stdout and "resumed" in p.stdout, p.stdout
    assert (out / "scenarios.jsonl").read_bytes() == first


def test_cli_bad_profiles_file(tmp_path):
    "A malformed profile file: exit 2, one line naming the file and the line."
    bad = tmp_path / "people.jsonl"
    bad.write_text('{"name": "Ann", "bio": "nurse"}\n{"name": "Bo"}\n{"bio": "no name"}\n')
    p = run_cli("gen", "society", "--config", SMOKE, f"profiles={bad}", "n_agents=3", "n_groups=1", "--out", tmp_path / "r")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "people.jsonl: line 3: field 'name'" in p.stderr, p.stderr


@pytest.mark.slow
def test_cli_smoke_config_kill_and_resume(tmp_path):
    "The whole smoke config; SIGKILL after the first steps, then a rerun finishes it with every scenario exactly once."
    out, env = tmp_path / "run", {**os.environ, "MATRIX_NB_CACHE": str(tmp_path / "cache"), "MATRIX_NB_PROGRESS": "0"}
    exe = Path(sys.executable).parent / "matrix-nb"
    args = [str(exe), "gen", "society", "--config", str(SMOKE), "--out", str(out), "cache=false"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    steps, t0 = out / "steps.jsonl", time.time()
    while time.time() - t0 < 600 and proc.poll() is None:
        if steps.exists() and steps.read_text().count("\n") >= 1: break
        time.sleep(0.2)
    killed = proc.poll() is None
    if killed: proc.send_signal(signal.SIGKILL)
    proc.wait()
    p = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    if killed: assert summary["resumed_steps"] >= 1
    assert summary["ended"] == "plans exhausted" and summary["crashed"] is False
    scs = check_run(out)
    assert summary["scenarios"] == len(scs) >= 8
    step_ids = [s["id"] for s in read_lines(steps)]
    assert len(step_ids) == len(set(step_ids)) == summary["steps"]
    p = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "0 LLM requests" in p.stdout, p.stdout + p.stderr[-1000:]
