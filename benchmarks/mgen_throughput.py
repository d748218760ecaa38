"""MATRIX-Gen society throughput: one modulator step of a 1,000-agent society (every agent acts, every action is
routed within its group, every group routes to its neighbours), batched as the society runs it, vs one request at a
time; plus the time to group 1,000 profiles (embedding on a cold cache + constrained k-means, K = 200).

The sequential rate is measured on `--seq-requests` requests spread evenly over the same step (the same requests,
seeds and model, no result cache), because sending all of them one by one takes minutes on CPU; the speedup compares the time
per request of the two ways on equal requests.

    python benchmarks/mgen_throughput.py [--model vllm:tiny] [--agents 1000] [--groups 200] [--seq-requests 64]

The default model is the tiny model served by the vLLM engine (`vllm:tiny`), the engine a society runs on at scale;
`--model tiny` uses the transformers backend on the same weights (its own batching loop, far less gain from batching).

Measured (2 CPU cores, 2026-12-02, otherwise idle): `--model vllm:tiny`, 1,000 agents, K = 200: grouping 24.5 s
(embedding 1,000 profiles longest-first, then constrained k-means); the step: 1,000 actions, 3,017 requests in 3
rounds, 42.7 s; 117 ms per request one by one vs 14 ms batched, identical outputs ->
`mgen_throughput: actions_per_min=1405.4 batched_speedup=8.26 grouping_s=24.5`.
(`--model tiny`, 200 agents, loaded machine, session 2: actions_per_min=102.8 batched_speedup=2.99.)

Last line: `mgen_throughput: actions_per_min=<x> batched_speedup=<y> grouping_s=<seconds>`
(targets: batched_speedup >= 4; grouping of 1,000 profiles under 60 s on 2 cores).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="vllm:tiny", help="LLM spec (default: vllm:tiny; tiny = transformers backend)")
    ap.add_argument("--agents", type=int, default=1000, help="agents in the society (default: 1000, the paper's)")
    ap.add_argument("--groups", type=int, default=200, help="K (default: 200, the paper's)")
    ap.add_argument("--seq-requests", type=int, default=64, help="requests timed one by one (default: 64)")
    ap.add_argument("--config", default=str(ROOT / "configs" / "gen_society_smoke.yaml"), help="society settings")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    a = ap.parse_args(argv)
    os.environ.setdefault("MATRIX_NB_PROGRESS", "0")
    from matrix_nb.core.config import load_config
    from matrix_nb.gen.grouping import embed_texts, group_centroids, homophily_groups, nearest_groups, profile_text
    from matrix_nb.gen.profiles import synthetic_profiles
    from matrix_nb.gen.society import SocietyConfig, new_society, society_step
    from matrix_nb.llm.load import load_llm
    from matrix_nb.sim.core import DriverStats, run_programs
    from matrix_nb.sim.run import limit_threads

    cfg = load_config(SocietyConfig, a.config, [f"model={a.model}", f"n_agents={a.agents}", f"n_groups={a.groups}"] + a.set)
    records = synthetic_profiles(cfg.n_agents, cfg.profile_seed)
    t0 = time.perf_counter()
    emb = embed_texts([profile_text(r) for r in records], cache=False)
    groups = homophily_groups(emb, cfg.n_groups, cfg.size_min, cfg.size_max, cfg.seed, cfg.kmeans_n_init)
    grouping_s = time.perf_counter() - t0
    print(f"grouping: {len(records)} profiles into {len(groups)} groups in {grouping_s:.1f} s", file=sys.stderr)
    neighbours = nearest_groups(group_centroids(emb, groups), cfg.inter_candidates)
    for r in records:                                    # a fixed goal and plan: the benchmark times a step, not S2/S3
        r.update(goal=f"to get better at {r['interests'][0]}", plan=[f"practise {i}" for i in r["interests"]])

    limit_threads(a.model)
    llm = load_llm(a.model, cache=False, executor={"progress": False})
    recorder = Recorder(llm)
    soc = new_society(cfg, records, groups, neighbours)
    warm = new_society(cfg, records[:20], [list(range(10)), list(range(10, 20))], [[1], [0]])
    run_programs(llm, [("warm-up", society_step(warm, {}))])
    st = DriverStats(); t0 = time.perf_counter()
    out = run_programs(recorder, [("step", society_step(soc, {"run": "benchmark"}))], stats=st)["step"]
    t_step = time.perf_counter() - t0
    if not out.ok: print(f"step failed: {out.error}", file=sys.stderr); return 1
    rec, _ = out.value
    actions = sum(bool(x["text"]) for x in rec["actions"])
    reqs = recorder.requests
    print(f"batched step: {len(rec['actions'])} turns ({actions} actions), {len(reqs)} requests in {st.rounds} rounds, "
          f"{t_step:.1f} s", file=sys.stderr)

    pick = sorted({round(k * (len(reqs) - 1) / max(1, a.seq_requests - 1)) for k in range(a.seq_requests)})
    sample = [reqs[i] for i in pick]                     # evenly spread over the step's mix of calls (S4/S5, S6, S7)
    t0 = time.perf_counter()
    seq = [llm.generate([r])[0] for r in sample]
    per_seq = (time.perf_counter() - t0) / len(sample)
    per_batched = t_step / len(reqs)
    same = all(x.text == recorder.results[i].text for x, i in zip(seq, pick))
    print(f"one by one: {len(sample)} of the step's requests, {per_seq * 1000:.0f} ms each (batched: "
          f"{per_batched * 1000:.0f} ms each); identical outputs: {same}", file=sys.stderr)
    print(f"mgen_throughput: actions_per_min={actions / t_step * 60:.1f} batched_speedup={per_seq / per_batched:.2f} "
          f"grouping_s={grouping_s:.1f}")
    return 0 if same else 1


class Recorder:
    "An LLM wrapper that keeps every request and result it passed on, in order."
    def __init__(self, llm):
        self.llm, self.fingerprint, self.requests, self.results = llm, llm.fingerprint, [], []

    def generate(self, reqs):
        res = self.llm.generate(reqs); self.requests += list(reqs); self.results += list(res)
        return res


if __name__ == "__main__":
    sys.exit(main())
