"""MATRIX-Gen figure notebooks (Figs. 5-7, examples): their parameters, and one reproduce run that shares its smoke data."""
import json

import pytest

from conftest import ROOT, run_cli
from matrix_nb.core.config import ConfigError
from matrix_nb.core.repro import plan_runs

FIGS = "matrix_gen/fig[567]*,matrix_gen/examples"


def test_figure_notebooks_declare_their_parameters():
    plan = dict((nb.name, p) for nb, p in plan_runs(ROOT / "nbs", FIGS, {}))
    assert set(plan) == {"matrix_gen/fig5a_quality", "matrix_gen/fig5b_difficulty", "matrix_gen/fig6_agent_similarity",
                         "matrix_gen/fig7a_categories", "matrix_gen/fig7b_verb_noun", "matrix_gen/examples"}
    assert all("run_dir" in p for p in plan.values())           # the smoke data are shared through the run dir
    with_synth = dict((nb.name, p) for nb, p in plan_runs(ROOT / "nbs", FIGS, {"synth_dir": "x"}))
    assert "synth_dir" not in with_synth["matrix_gen/fig6_agent_similarity"] and "synth_dir" in with_synth["matrix_gen/fig5a_quality"]
    with pytest.raises(ConfigError, match="declare"):
        plan_runs(ROOT / "nbs", FIGS, {"no_such_param": 1})


@pytest.mark.slow
def test_figures_smoke_reproduce(tmp_path):
    out, runs = tmp_path / "reports", tmp_path / "runs"
    r = run_cli("reproduce", "--only", FIGS, "--out", out, "--runs", runs, timeout=1800)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    for name in ("fig5a_quality", "fig5b_difficulty", "fig6_agent_similarity", "fig7a_categories", "fig7b_verb_noun", "examples"):
        rec = json.loads((out / "matrix_gen" / f"{name}.json").read_text())
        assert rec["status"] == "smoke only", (name, rec["status"])
        assert (name == "examples") or (out / "matrix_gen" / f"{name}.png").stat().st_size > 10_000
    (run_dir,) = runs.glob("reproduce-*")
    assert len(list(run_dir.glob("mgen_figs/*/synth/summary.json"))) == 1  # one synthesis for all five notebooks that need one
    fig6 = json.loads((out / "matrix_gen" / "fig6_agent_similarity.json").read_text())["numbers"]
    assert fig6["gap"] > fig6["random_gap_max"]                      # homophily groups are more alike than random ones
    assert "no offline dependency parser" in (out / "matrix_gen" / "fig7b_verb_noun.md").read_text().lower()
