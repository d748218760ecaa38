"""Metrics against their references: alpaca_eval's own win rate and LC functions (on inputs where both run),
Arena-Hard bootstrap behaviour, MT-Bench-101 aggregation."""
import numpy as np
import pandas as pd
import pytest

from matrix_nb.align.judge import PairJudgment
from matrix_nb.align.metrics import (alpaca_annotations, alpaca_eval_metrics, arena_hard_winrate, lc_winrate, package_lc_winrate,
                                     winrate)


def _data(seed, n=400, len_effect=-1.0, diff_effect=0.7, bias=0.2):
    rng = np.random.default_rng(seed)
    diff = rng.normal(0, 1, n); lb = rng.integers(100, 2500, n); lm = rng.integers(100, 3500, n)
    z = (lb - lm) / (lb - lm).std(ddof=1)
    p = 1 / (1 + np.exp(-(bias + len_effect * np.tanh(z) + diff_effect * diff)))
    pr = np.where(rng.random(n) < p, 2.0, 1.0); pr[rng.random(n) < 0.08] = 1.5
    return pr, lm, lb, diff


@pytest.fixture
def gamed_csv(tmp_path):
    "A df_gamed.csv with the columns alpaca_eval reads; synthetic difficulty (the real file is a hub download)."
    def make(diff):
        p = tmp_path / "df_gamed.csv"
        pd.DataFrame({"model": "m", "index": np.arange(len(diff)), "instruction_difficulty": diff, "preference": 0.5,
                      "std_delta_len": 0.0, "not_gamed_baseline": False}).to_csv(p, index=False)
        return p
    return make


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_own_lc_matches_alpaca_eval_package(seed, gamed_csv):
    pr, lm, lb, diff = _data(seed)
    ann = alpaca_annotations(pr, ["m" * int(l) for l in lm], ["b" * int(l) for l in lb], range(len(pr)))
    csv = gamed_csv(diff)
    for glm, d in (("length_controlled_minimal", None), ("length_controlled_noreg", diff)):
        pkg = package_lc_winrate(ann, csv, glm)
        ours = lc_winrate(pr, lm, lb, d)
        assert abs(ours["length_controlled_winrate"] - pkg["length_controlled_winrate"]) < 0.5, (glm, ours, pkg)
        assert abs(ours["lc_standard_error"] - pkg["lc_standard_error"]) < 0.2
        assert abs(pkg["win_rate"] - winrate(pr)["win_rate"]) < 1e-9


def test_package_v1_runs_with_local_file(gamed_csv):
    "The default regularized formula also runs from the local file (its numbers need the real file to mean anything)."
    pr, lm, lb, diff = _data(3)
    ann = alpaca_annotations(pr, ["m" * int(l) for l in lm], ["b" * int(l) for l in lb], range(len(pr)))
    r = package_lc_winrate(ann, gamed_csv(diff))
    assert 0 < r["length_controlled_winrate"] < 100 and r["method"] == "alpaca_eval package (length_controlled_v1)"


def test_alpaca_metrics_use_package_when_file_present(gamed_csv):
    pr, lm, lb, diff = _data(4, n=805)
    js = [PairJudgment(str(i), {2.0: "win", 1.5: "tie", 1.0: "lose"}[p], []) for i, p in enumerate(pr)]
    om = {str(i): "m" * int(l) for i, l in enumerate(lm)}; ob = {str(i): "b" * int(l) for i, l in enumerate(lb)}
    idx = {str(i): i for i in range(805)}
    with_file = alpaca_eval_metrics(js, om, ob, idx, gamed_csv(diff))
    assert with_file["lc_method"].startswith("alpaca_eval package")
    without = alpaca_eval_metrics(js, om, ob, idx, None)
    assert without["lc_method"].startswith("own GLM") and "not on disk" in without["lc_note"]


def test_arena_hard_ci_shrinks_with_more_questions():
    def js(n): return [PairJudgment(str(i), "win", [{"ok": True, "label": "A>B" if i % 3 else "B>A"}] * 2) for i in range(n)]
    small, big = arena_hard_winrate(js(30), n_boot=200), arena_hard_winrate(js(600), n_boot=200)
    assert abs(small["win_rate"] - big["win_rate"]) < 5
    assert (big["ci_high"] - big["ci_low"]) < (small["ci_high"] - small["ci_low"])
    assert arena_hard_winrate(js(30), n_boot=50, seed=1) == arena_hard_winrate(js(30), n_boot=50, seed=1)
