"""MATRIX simulation throughput: 32 queries simulated together (one LLM batch per round) vs one query at a time.

Both runs use the same model, settings and seeds, without the result cache, and must produce identical transcripts
(the scheduler is deterministic and seeds do not depend on batching), so the speedup compares equal work.

    python benchmarks/matrix_throughput.py [--model tiny] [--queries 32] [--config configs/matrix_sim_smoke.yaml]

Last line: `matrix_throughput: queries_per_min=<x> calls_per_query=<y> batched_speedup=<z>` (target speedup >= 4).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", help="LLM spec (default: tiny; e.g. vllm:DIR for the vLLM engine)")
    ap.add_argument("--queries", type=int, default=32, help="queries simulated (default: 32)")
    ap.add_argument("--config", default=str(ROOT / "configs" / "matrix_sim_smoke.yaml"), help="simulation settings")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    a = ap.parse_args(argv)
    os.environ.setdefault("MATRIX_NB_PROGRESS", "0")
    from matrix_nb.core.config import load_config
    from matrix_nb.llm.load import load_llm
    from matrix_nb.sim.core import DriverStats
    from matrix_nb.sim.matrix import make_queries, simulate_many
    from matrix_nb.sim.run import SimRunConfig, limit_threads

    cfg = load_config(SimRunConfig, a.config, [f"model={a.model}", "keep_calls=false"] + a.set).simulator()
    limit_threads(a.model)
    llm = load_llm(a.model, cache=False, executor={"progress": False})
    topics = ["a concert ticket", "my neighbour's wifi", "a parking fine", "my exam", "a coworker", "my landlord",
              "a shop refund", "my ex", "a noisy dog", "a job interview", "my taxes", "a group project", "a bike lock",
              "an online review", "a medical note", "a phone password"]
    qs = make_queries([f"What is the quickest way to deal with {topics[i % len(topics)]}? (case {i})" for i in range(a.queries)])
    simulate_many(llm, make_queries(["warm-up query"]), cfg)                      # load weights, compile grammars

    st = DriverStats(); t0 = time.perf_counter()
    batched = simulate_many(llm, qs, cfg, max_live=None, stats=st)
    t_batched = time.perf_counter() - t0
    calls = sum(r["calls"] for r in batched.values())
    print(f"batched:    {len(qs)} queries in {t_batched:.1f} s, {st.rounds} rounds, {calls} calls, "
          f"largest batch {max(st.batch_sizes)}", file=sys.stderr)

    t0 = time.perf_counter(); single = {}
    for q in qs: single.update(simulate_many(llm, [q], cfg, max_live=1))
    t_single = time.perf_counter() - t0
    print(f"one by one: {len(qs)} queries in {t_single:.1f} s", file=sys.stderr)

    same = all(batched[q["id"]]["incidents"] == single[q["id"]]["incidents"] and
               batched[q["id"]]["revised"] == single[q["id"]]["revised"] for q in qs)
    print(f"identical transcripts batched vs one by one: {same}", file=sys.stderr)
    failed = sum(1 for r in batched.values() if r.get("error"))
    if failed: print(f"WARNING: {failed} simulations crashed", file=sys.stderr)
    print(f"matrix_throughput: queries_per_min={len(qs) / t_batched * 60:.1f} calls_per_query={calls / len(qs):.1f} "
          f"batched_speedup={t_single / t_batched:.2f}")
    return 0 if same and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
