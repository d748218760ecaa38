"""The MATRIX chain through the real tiny backend: simulate -> SFT data -> train -> evaluate, as the reports use it."""
import json

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def cc(tmp_path_factory):
    from matrix_nb.sim.chain import load_chain
    return load_chain(ROOT / "configs" / "matrix_smoke.yaml", ["n_prompts=1", "ablation_n_prompts=1",
                      "baselines_a=[vanilla, critique_revise]", "baselines_b=[vanilla]", "benchmarks=[hh, advbench]"],
                      work_dir=tmp_path_factory.mktemp("chain"))


@pytest.mark.slow
def test_table_a_and_b(cc):
    from matrix_nb.sim.chain import table_a, table_b
    rows, res = table_a(cc)
    assert [r["vs"] for r in rows][:2] == ["vanilla", "critique_revise"] and rows[2]["vs"].startswith("gpt-3.5-turbo")
    assert all("(n=1)" in r["HH"] for r in rows)                       # every comparison judged once per prompt
    assert res.metrics["counts"]["answers_failed"] == 0
    answers = [json.loads(l) for l in (cc.work_dir / "answers-inference.jsonl").read_text().split("\n")[:-1]]
    assert len(answers) == 2 and all(a["answer"] for a in answers)
    trans = [json.loads(l) for l in (cc.work_dir / "transcripts-inference.jsonl").read_text().split("\n")[:-1]]
    van = [json.loads(l) for l in (res.run_dir / "answers.jsonl").read_text().split("\n")[:-1] if l.startswith('{"id": "vanilla|')]
    assert {t["r0"] for t in trans} == {v["answer"] for v in van}       # MATRIX revised the very answer it is compared with
    rows, res, tuned = table_b(cc)
    assert tuned.startswith("hf:") and (cc.work_dir / "train-tiny" / "model").is_dir()
    assert [r["vs"] for r in rows][1:4] == ["mistake_analysis", "rlcd", "rlaif"] and rows[1]["HH"] == "— (not run)"
    sft = [json.loads(l) for l in (cc.work_dir / "sim-tiny" / "sft.jsonl").read_text().split("\n")[:-1]]
    assert sft and {r["kind"] for r in sft} == {"harmful", "helpful"}


@pytest.mark.slow
def test_ablation_grid(cc):
    from matrix_nb.sim.chain import ablation
    wr = ablation(cc, "num_roles", [1, 3])
    assert list(wr) == [1, 3] and all(0 <= v <= 100 for v in wr.values())
    recs = [json.loads(l) for l in (cc.work_dir / "transcripts-num_roles-3.jsonl").read_text().split("\n")[:-1]]
    assert all(len(r["scene"]["roles"]) == 3 for r in recs)
