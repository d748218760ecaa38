"""The record store survives `kill -9` at random points: no finished record lost, no duplicate, no corrupt line."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from matrix_nb.core.store import RecordStore

WRITER = textwrap.dedent("""
    import sys, time
    from matrix_nb.core.store import RecordStore
    path, n = sys.argv[1], int(sys.argv[2])
    store = RecordStore(path)
    todo = store.pending([{"id": f"q{i:04d}"} for i in range(n)])
    for i in range(0, len(todo), 3):             # batches of 3, like a simulation step
        batch = [{"id": t["id"], "answer": "x" * (200 + 37 * j)} for j, t in enumerate(todo[i:i + 3])]
        time.sleep(0.01); store.append(batch)
        print(" ".join(r["id"] for r in batch), flush=True)   # acknowledged = finished
    print("DONE", flush=True)
""")


def test_kill9_at_random_points_then_resume(tmp_path):
    path, n, rng = tmp_path / "records.jsonl", 300, random.Random(0)
    script = tmp_path / "writer.py"; script.write_text(WRITER)
    acked = set()
    for attempt in range(12):
        p = subprocess.Popen([sys.executable, str(script), str(path), str(n)], stdout=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 1.2))
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate()
        for line in out.splitlines():
            if line != "DONE": acked.update(line.split())
        lines = path.read_bytes().split(b"\n") if path.exists() else []
        with RecordStore(path) as s:                           # reopening repairs a torn last line
            ids = [r["id"] for r in s]
            assert len(ids) == len(set(ids)), "duplicate records"
            assert acked <= set(ids), f"lost finished records: {sorted(acked - set(ids))[:5]}"
        if "DONE" in out: break
    # finish the job: a clean run resumes and completes every id exactly once
    out = subprocess.run([sys.executable, str(script), str(path), str(n)], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("DONE")
    recs = [json.loads(l) for l in path.read_text().splitlines()]
    assert sorted(r["id"] for r in recs) == [f"q{i:04d}" for i in range(n)]
    assert len(acked) > 0
