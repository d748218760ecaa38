"""MATRIX-Gen synthesis job: configs load, a SIGKILL during the job loses nothing and duplicates nothing."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT


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
