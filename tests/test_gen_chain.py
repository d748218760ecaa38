"""The MATRIX-Gen chain (gen.chain) behind the matrix_gen repro notebooks: notebooks and configs agree, and the chain
runs end to end on the tiny backend, with the society simulator when the build has it."""
import json

import pytest

from conftest import ROOT

GEN_ITEMS = ["table2_sft", "table3_dpo", "table4_full_size", "table5_mtbench101", "table6_code", "table7_safety",
             "table8_communication", "table10_data_type", "table11_qwen2", "fig4a_agent_scaling", "fig4b_scenario_scaling",
             "acl_qwen25", "acl_reason"]


def test_repro_notebooks_declare_the_chain_parameters():
    from matrix_nb.core.report import get_item
    from matrix_nb.core.repro import notebook_parameters
    for i in GEN_ITEMS:
        get_item(f"matrix_gen/{i}")                                       # registered in the report index
        p = notebook_parameters(ROOT / "nbs" / "repro" / f"matrix_gen_{i}.ipynb")
        assert {"profile", "reports_dir", "run_dir", "config"} <= set(p), i
        assert p["profile"] == "smoke" and p["run_dir"] is None


def test_both_profiles_load():
    from matrix_nb.gen.chain import load_gen_chain
    s = load_gen_chain(ROOT / "configs" / "gen_chain_smoke.yaml")
    p = load_gen_chain(ROOT / "configs" / "gen_chain_paper.yaml")
    assert s.base_model == "tiny" and p.base_model == "meta-llama/Meta-Llama-3-8B" and p.n_sft == p.n_dpo == 10000
    assert all(k.startswith("stand-in") for k in s.baselines_sft)        # smoke baselines are labelled stand-ins
    assert p.baselines_sft == {}                                          # the paper's data are never faked


@pytest.mark.slow
def test_communication_table_with_society(tmp_path):
    from matrix_nb.gen.chain import communication_table, load_gen_chain, society_available
    cc = load_gen_chain(ROOT / "configs" / "gen_chain_smoke.yaml", ["n_prompts=1", "comm_modes=[none, structured]"], work_dir=tmp_path)
    if society_available(cc): pytest.skip(society_available(cc))
    rows, res, info = communication_table(cc)
    assert [r["communication"] for r in rows] == ["none", "structured"]
    for m in ("none", "structured"):
        soc = [p for p in tmp_path.glob("society-*") if json.loads((p / "summary.json").read_text())["communication"] == m]
        assert len(soc) == 1 and info[m]["sft_rows"] > 0
    assert res.metrics["counts"]["answers_failed"] == 0
