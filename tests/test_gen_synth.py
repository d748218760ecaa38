"""MATRIX-Gen synthesis job: configs load, a SIGKILL during the job loses nothing and duplicates nothing."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli


def test_configs_load(tmp_path):
    from matrix_nb.core.config import ConfigError, load_config
    from matrix_nb.gen.pipeline import GenSynthConfig
    smoke = load_config(GenSynthConfig, ROOT / "configs/gen_synth_smoke.yaml")
    assert smoke.smoke and smoke.model_specs()["reject"] == "tiny:1"
    paper = load_config(GenSynthConfig, ROOT / "configs/gen_synth_paper.yaml", [f"society={tmp_path}"])
    assert (paper.n_sft, paper.n_dpo, paper.minhash_perms) == (10000, 10000, 128) and not paper.smoke
    with pytest.raises(ConfigError, match="society"):   # the paper society must exist
        load_config(GenSynthConfig, ROOT / "configs/gen_synth_paper.yaml", ["society=/nonexistent/society"])


_JOB = """
import sys
from matrix_nb.core.config import load_config
from matrix_nb.gen.pipeline import GenSynthConfig, synthesize
cfg = load_config(GenSynthConfig, sys.argv[1], sys.argv[3:])
synthesize(cfg, sys.argv[2])
"""


def _lines(p: Path) -> list[dict]:
    return [json.loads(l) for l in p.read_bytes().split(b"\n") if l.strip()]


@pytest.mark.slow
def test_sigkill_resume(tmp_path):
    "Kill `synthesize` once records are being written; the rerun completes with every record exactly once."
    out = tmp_path / "run"
    over = ["n_sft=24", "n_dpo=6", "n_code=0", "n_safety=0", "n_multiturn=0", "max_live=2", "embedder=hash",
            "cache=false", "tag=false", "retries=0", "max_tokens={instruction: 12, response: 12, followup: 8}"]
    env = {**os.environ, "MATRIX_NB_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", _JOB, str(ROOT / "configs/gen_synth_smoke.yaml"), str(out), *over]
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store, t0 = out / "synth.jsonl", time.time()
    while time.time() - t0 < 240 and p.poll() is None:
        if store.exists() and len(_lines(store)) >= 4: break
        time.sleep(0.05)
    assert p.poll() is None, "the job ended before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    n_before = len(_lines(store))
    assert 0 < n_before < 30
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    recs = _lines(store)
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)) == 30
    s = json.loads((out / "summary.json").read_text())
    assert s["resumed"] >= n_before and s["synthesized"] == 30 - s["resumed"]
    import datasets
    n_rows = sum(len(datasets.load_from_disk(str(out / "data" / v))["train"]) for v in ("sft", "dpo") if (out / "data" / v).exists())
    assert n_rows == sum(s["exported"].values()) and n_rows <= 30


@pytest.fixture(scope="module")
def synth_cli():
    "Skip until cli.gen registers `gen synthesize` (gen.pipeline.add_gen_synthesize)."
    r = run_cli("gen", "synthesize", "--help", timeout=120)
    if r.returncode != 0: pytest.skip("`matrix-nb gen synthesize` is not registered yet (cli.gen: add_gen_synthesize)")
    return r


def test_cli_help(synth_cli):
    assert "--config" in synth_cli.stdout and "dataset card" in synth_cli.stdout


def test_cli_bad_input(synth_cli, tmp_path):
    y = tmp_path / "bad.yaml"; y.write_text("n_sft: 2\ncolour: red\n")
    r = run_cli("gen", "synthesize", "--config", y, "--out", tmp_path / "run", timeout=120)
    assert r.returncode == 2 and "bad.yaml: colour: unknown key" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_cli("gen", "synthesize", "--config", ROOT / "configs/gen_synth_smoke.yaml", "--society", tmp_path / "none", timeout=120)
    assert r.returncode == 2 and "society" in r.stderr, r.stderr


@pytest.mark.slow
def test_cli_smoke_and_resume(synth_cli, tmp_path):
    args = ["gen", "synthesize", "--config", ROOT / "configs/gen_synth_smoke.yaml", "--out", tmp_path / "run", "--no-progress",
            "--set", "embedder=hash", "--set", "n_sft=2", "--set", "n_dpo=1", "--set", "n_code=0", "--set", "n_safety=0",
            "--set", "n_multiturn=0"]
    r = run_cli(*args, timeout=600)
    assert r.returncode in (0, 1) and "3 items (3 new, 0 resumed)" in r.stdout, r.stdout + r.stderr
    assert (tmp_path / "run" / "data" / "README.md").exists() and (tmp_path / "run" / "summary.json").exists()
    r = run_cli(*args, timeout=600)
    assert "3 items (0 new, 3 resumed)" in r.stdout, r.stdout + r.stderr
