"""The LLM layer through the real transformers backend on the tiny model: schemas, cache, resume, corruption, concurrency."""
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from conftest import ROOT
from matrix_nb.llm.core import GenParams, Request, system, user
from matrix_nb.llm.load import load_llm


class Scene(BaseModel):
    "A bounded, nested schema like the simulators' (a scene with roles)."
    model_config = ConfigDict(extra="forbid")

    class Role(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(max_length=20)
        kind: Literal["human", "animal", "object"]
        age: int = Field(ge=0, le=120)

    place: str = Field(pattern=r"^[a-z ]{1,24}$")
    roles: list[Role] = Field(min_length=1, max_length=3)
    tags: list[Annotated[str, Field(max_length=10)]] = Field(max_length=2)
    harmful: bool


def scene_requests(n, temperature=1.0, seed0=0):
    return [Request([system("Answer in JSON."), user(f"Describe scene {i}.")],
                    GenParams(temperature=temperature, max_tokens=200, seed=seed0 + i), schema=Scene, tag="scene")
            for i in range(n)]


def test_tiny_bounded_schema_every_sample_valid(tmp_path):
    "hf + tiny with a bounded schema: every one of 24 samples parses and validates."
    llm = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False})
    res = llm.generate(scene_requests(24))
    assert [r.ok for r in res] == [True] * 24, [r.error for r in res if not r.ok]
    assert all(isinstance(r.parsed, Scene) and 1 <= len(r.parsed.roles) <= 3 for r in res)
    assert all(Scene.model_validate_json(json.dumps(json.loads(r.text, strict=False))) == r.parsed for r in res)
    assert llm.stats.failures == 0 and llm.stats.retries <= 3      # retries are rare (0 with these seeds here)
    assert len({r.text for r in res}) == 24                       # different seeds, different samples
    assert all(r.finish_reason == "stop" and r.completion_tokens > 10 and r.fingerprint.startswith("hf:tiny-s0-") for r in res)


def test_finished_batch_rerun_makes_no_backend_call(tmp_path):
    "A second executor (as in a new process) answers a finished batch from the cache alone, with equal results."
    reqs = scene_requests(10, temperature=0.7) + [Request([user("free text")], GenParams(max_tokens=12))] * 2
    first = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False}).generate(reqs)
    llm = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False})
    again = llm.generate(reqs)
    assert llm.stats.backend_calls == 0 and llm.stats.cache_hits == 12      # two unseeded twins are two samples
    assert [r.text for r in again] == [r.text for r in first] and all(r.cached for r in again)
    assert [r.parsed for r in again] == [r.parsed for r in first]


def test_corrupt_entry_is_recomputed_with_warning(tmp_path):
    reqs = scene_requests(3)
    first = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False}).generate(reqs)
    db = sqlite3.connect(tmp_path / "llm.sqlite")
    db.execute("UPDATE entries SET value = substr(value, 1, 20) WHERE rowid = (SELECT min(rowid) FROM entries)")
    db.commit(); db.close()
    llm = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        again = llm.generate(reqs)
    assert any("corrupt cache entry" in str(x.message) for x in w)
    assert llm.stats.backend_requests == 1 and llm.stats.cache_hits == 2
    assert [r.text for r in again] == [r.text for r in first]


RUN = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, {tests!r})
    from test_llm_hf import scene_requests
    from matrix_nb.llm.load import load_llm
    llm = load_llm("tiny", cache_dir=sys.argv[1], executor={{"progress": False, "chunk_size": 4}})
    die_after = int(sys.argv[2])
    if die_after:
        gen, calls = llm.backend.generate, []
        def dying(reqs):
            if len(calls) == die_after: os._exit(137)     # killed in the middle of the batch
            calls.append(1); return gen(reqs)
        llm.backend.generate = dying
    res = llm.generate(scene_requests(int(sys.argv[3])))
    print(json.dumps({{"texts": [r.text for r in res], "ok": [r.ok for r in res], "backend": llm.stats.backend_requests,
                       "hits": llm.stats.cache_hits}}))
""")


def run_batch(cache, die_after, n):
    script = RUN.format(tests=str(ROOT / "tests"))
    return subprocess.run([sys.executable, "-c", script, str(cache), str(die_after), str(n)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.mark.slow
def test_interrupted_batch_resumes(tmp_path):
    "A process killed after 3 of 6 chunks keeps those chunks; the re-run computes only the rest, and equals a clean run."
    killed = run_batch(tmp_path / "a", 3, 24)
    assert killed.returncode == 137, killed.stderr[-2000:]
    resumed = run_batch(tmp_path / "a", 0, 24)
    clean = run_batch(tmp_path / "b", 0, 24)
    assert resumed.returncode == 0 and clean.returncode == 0, resumed.stderr[-2000:] + clean.stderr[-2000:]
    r, c = json.loads(resumed.stdout.splitlines()[-1]), json.loads(clean.stdout.splitlines()[-1])
    assert r["hits"] == 12 and r["backend"] == 12 and c["backend"] == 24
    assert r["texts"] == c["texts"] and all(r["ok"])


@pytest.mark.slow
def test_concurrent_processes_share_one_cache(tmp_path):
    "Two processes running the same batch on one cache both finish with the same answers; the cache stays sound."
    script = RUN.format(tests=str(ROOT / "tests"))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), "0", "16"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
    a, b = (json.loads(o.splitlines()[-1]) for o, _ in outs)
    assert a["texts"] == b["texts"] and all(a["ok"])
    db = sqlite3.connect(tmp_path / "llm.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 16


@pytest.mark.slow
def test_tiny_model_trains_with_trl(tmp_path):
    "The tiny folder is what the alignment code fine-tunes: trl SFT and DPO run on it, and the SFT result reloads."
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer
    from matrix_nb.llm.tiny import tiny_model_path
    p = tiny_model_path(0)
    tok, model = AutoTokenizer.from_pretrained(p), AutoModelForCausalLM.from_pretrained(p)
    ds = Dataset.from_list([{"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}
                            for i in range(8)])
    args = SFTConfig(output_dir=str(tmp_path / "o"), max_steps=2, per_device_train_batch_size=4, max_length=64,
                     use_cpu=True, report_to="none", save_strategy="no", dataloader_num_workers=0, logging_steps=1)
    tr = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    tr.train(); tr.save_model(tmp_path / "sft"); tok.save_pretrained(tmp_path / "sft")
    assert tr.state.global_step == 2
    res = load_llm(f"hf:{tmp_path / 'sft'}", cache=False, executor={"progress": False}).generate(scene_requests(2))
    assert all(r.ok for r in res)
    from trl import DPOConfig, DPOTrainer
    pairs = Dataset.from_list([{"prompt": [{"role": "user", "content": f"q {i}"}], "chosen": [{"role": "assistant", "content": "good"}],
                                "rejected": [{"role": "assistant", "content": "bad"}]} for i in range(8)])
    dargs = DPOConfig(output_dir=str(tmp_path / "d"), max_steps=1, per_device_train_batch_size=4, beta=0.1, max_length=64,
                      use_cpu=True, report_to="none", save_strategy="no", dataloader_num_workers=0)
    dpo = DPOTrainer(model=AutoModelForCausalLM.from_pretrained(p), ref_model=None, args=dargs, train_dataset=pairs, processing_class=tok)
    dpo.train()
    assert dpo.state.global_step == 1


def test_simulator_programs_through_the_tiny_model(tmp_path):
    "sim.core's driver batches the steps of many programs into one LLM call per round; every step's output validates."
    from matrix_nb.sim.core import DriverStats, run_programs

    def scene_program(q):
        [scene] = yield [Request([user(f"Scene for query {q}")], GenParams(temperature=0.7, max_tokens=200, seed=q), schema=Scene)]
        reactions = yield [Request([user(f"How does {role.name} react?")], GenParams(max_tokens=8, seed=q * 10 + k))
                           for k, role in enumerate(scene.parsed.roles)]
        return {"scene": scene.parsed.model_dump(), "reactions": [r.text for r in reactions]}

    llm = load_llm("tiny", cache_dir=tmp_path, executor={"progress": False})
    st = DriverStats()
    outs = run_programs(llm, [(q, scene_program(q)) for q in range(6)], stats=st)
    assert all(o.ok for o in outs.values()), [o.error for o in outs.values() if not o.ok]
    assert st.batch_sizes[0] == 6 and st.rounds == 2
    assert all(len(o.value["reactions"]) == len(o.value["scene"]["roles"]) for o in outs.values())
