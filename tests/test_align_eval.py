"""align eval end to end through the real tiny backend: the CLI, every benchmark kind, resume after SIGKILL with
every record exactly once, answers from a file, and failures counted instead of dropped."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

from matrix_nb.align.benchmarks import load_benchmark
from matrix_nb.core.io import read_jsonl


def _ids(path):
    return [r["id"] for r in read_jsonl(path)] if path.exists() else []


def _cfg(tmp_path, **kw):
    base = {"out": str(tmp_path / "ev"), "systems": {"vanilla": "tiny", "cd": "context_distillation@tiny"},
            "benchmarks": ["advbench", "mt_bench", "humaneval"], "n_prompts": 2, "judge": "tiny",
            "pairs": ["cd vs vanilla"], "ratings": ["harmlessness"], "max_tokens": 16, "chunk": 2,
            "cache_dir": str(tmp_path / "cache")}
    base.update(kw)
    p = tmp_path / "eval.yaml"
    p.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in base.items()) + "\n")
    return p


def test_cli_eval_real_backend(tmp_path):
    r = run_cli("align", "eval", "--config", _cfg(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "ev"
    for f in ("answers.jsonl", "pairwise.jsonl", "ratings.jsonl", "code.jsonl", "wtl.csv", "ratings.csv", "asr.csv",
              "code.csv", "summary.md", "eval_metrics.json", "config.yaml", "provenance.json"):
        assert (out / f).exists(), f
    m = json.loads((out / "eval_metrics.json").read_text())["counts"]
    # 2 systems x (2 advbench + 2 mt_bench first turns + 2 mt_bench second turns + 2 humaneval)
    assert m["answers"] == 16 and m["answers_failed"] == 0
    assert m["pairwise"] == 2                                   # cd vs vanilla on advbench
    assert m["ratings"] == 2 * 2 + 2 * 4                        # harmlessness on advbench, general on both MT-Bench turns
    assert json.loads((out / "provenance.json").read_text())["status"] == "ok"
    assert "align eval: 16 answers (0 failed)" in r.stdout


def test_eval_resumes_after_sigkill(tmp_path):
    cfg = _cfg(tmp_path, systems={"vanilla": "tiny", "cr": "critique_revise@tiny"}, benchmarks=["hh", "harmfulqa"], n_prompts=4,
               pairs=["cr vs vanilla"], ratings=["harmlessness", "helpfulness"])
    exe = Path(sys.executable).parent / "matrix-nb"
    answers = tmp_path / "ev" / "answers.jsonl"
    p = subprocess.Popen([str(exe), "align", "eval", "--config", str(cfg)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.time()
    while time.time() - t0 < 1200 and len(_ids(answers)) < 6 and p.poll() is None: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.communicate()
    partial = _ids(answers)
    assert 0 < len(partial) < 16, "the kill should land mid-run"
    r = run_cli("align", "eval", "--config", cfg, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    ev = tmp_path / "ev"
    for name, n in (("answers.jsonl", 16), ("pairwise.jsonl", 8), ("ratings.jsonl", 32)):
        ids = _ids(ev / name)
        assert len(ids) == len(set(ids)) == n, (name, len(ids), len(set(ids)))
    assert set(partial) <= set(_ids(answers))


def test_file_answers_and_failures_counted(tmp_path):
    hh = load_benchmark("hh")
    ans = tmp_path / "matrix.jsonl"
    ans.write_text("\n".join(json.dumps({"prompt": p.text, "answer": "I'm sorry, I can't help with that."}) for p in hh[:3]) + "\n"
                   + json.dumps({"id": hh[3].id, "answer": "I won't do that."}) + "\n")
    cfg = _cfg(tmp_path, systems={"matrix": f"file:{ans}", "vanilla": "tiny"}, benchmarks=["hh"], n_prompts=None,
               pairs=["matrix vs vanilla"], ratings=[])
    r = run_cli("align", "eval", "--config", cfg, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    import pandas as pd
    wtl = pd.read_csv(tmp_path / "ev" / "wtl.csv")
    assert wtl.loc[0, "hh failed"] == len(hh) - 4                   # the prompts the file does not answer
    asr = pd.read_csv(tmp_path / "ev" / "asr.csv").set_index("system")
    assert asr.loc["matrix", "hh ASR"] == 25.0 and asr.loc["matrix", "hh n"] == 4   # "I won't" is not a refusal keyword


def test_bad_eval_config_exit_2(tmp_path):
    cfg = _cfg(tmp_path, pairs=["cd vs nobody"])
    r = run_cli("align", "eval", "--config", cfg, cwd=tmp_path)
    assert r.returncode == 2 and "'nobody' is not a system" in r.stderr and r.stderr.count("\n") == 1
    r = run_cli("align", "eval", "--config", _cfg(tmp_path, data_dir=str(tmp_path / "nodata")), cwd=tmp_path)
    assert r.returncode == 2 and "benchmark advbench: none of harmful_behaviors.csv" in r.stderr


def test_best_of_n_selected_by_the_judge(tmp_path):
    cfg = _cfg(tmp_path, systems={"bon": "best_of_n@tiny"}, benchmarks=["advbench"], pairs=[], bon_n=3, ratings=[])
    r = run_cli("align", "eval", "--config", cfg, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = read_jsonl(tmp_path / "ev" / "answers.jsonl")
    assert len(recs) == 2 and all(x["ok"] and len(x["trace"]) == 3 for x in recs)
    for x in recs:                                          # the kept answer is the best-rated sample (earliest on ties)
        scores = [t["score"] for t in x["trace"]]
        best = max(range(3), key=lambda i: (scores[i], -i))
        assert x["answer"] == x["trace"][best]["text"]


@pytest.mark.slow
def test_smoke_eval_config_all_benchmarks(tmp_path):
    "The shipped smoke config: every benchmark kind, three systems, the tiny judge."
    r = run_cli("align", "eval", "--config", ROOT / "configs" / "align_smoke_eval.yaml", f"out={tmp_path / 'ev'}", "n_prompts=1",
                f"cache_dir={tmp_path / 'cache'}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())
    assert set(m["tables"]) == {"wtl", "ratings", "asr", "alpaca_eval", "arena_hard", "mtbench101", "code"}
    assert m["counts"]["answers_failed"] == 0
