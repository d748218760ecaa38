"""`openai:` specs against a real vLLM OpenAI-compatible server on 127.0.0.1, started and stopped by this module.

The server is killed (SIGKILL) in the middle of a batch and restarted on the same port: the batch completes with
every request answered once.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from matrix_nb.llm.core import GenParams, Request, user
from matrix_nb.llm.load import load_llm
from matrix_nb.llm.tiny import tiny_model_path

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


class VLLMServer:
    "A vLLM OpenAI-compatible server in its own process group, controlled by pid."
    def __init__(self, model: Path, logdir: Path, name: str = "tiny"):
        self.model, self.logdir, self.name, self.port = model, logdir, name, free_port()
        self.proc, self.logs = None, []

    @property
    def url(self) -> str: return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 240):
        log = self.logdir / f"server-{len(self.logs)}.log"; self.logs.append(log)
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
               "--served-model-name", self.name, "--host", "127.0.0.1", "--port", str(self.port), "--dtype", "float32",
               "--max-model-len", "1024", "--enforce-eager", "--seed", "0",
               "--structured-outputs-config", '{"backend":"xgrammar","disable_any_whitespace":true}']
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None: raise RuntimeError(f"vLLM server exited: {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200: return self
            except OSError: time.sleep(0.5)
        self.stop(); raise RuntimeError(f"vLLM server not healthy after {timeout} s: {log.read_text()[-3000:]}")

    def kill(self, sig=signal.SIGKILL):
        "Send `sig` to the server's process group (the API server and its engine process), by pid; wait for it."
        if self.proc is None or self.proc.poll() is not None: return
        try: os.killpg(self.proc.pid, sig)
        except ProcessLookupError: return
        try: self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL); self.proc.wait(timeout=30)

    def stop(self): self.kill(signal.SIGTERM)

    def answered(self) -> int:
        "Chat completions the server(s) answered with 200, from the access logs."
        return sum(l.read_text().count('"POST /v1/chat/completions HTTP/1.1" 200') for l in self.logs)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = VLLMServer(tiny_model_path(0), tmp_path_factory.mktemp("vllm_server")).start()
    yield srv
    srv.stop()


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Literal["safe", "harmful", "unclear"]
    reason: str = Field(max_length=40)
    score: int = Field(ge=1, le=10)


def verdicts(n, seed0=0):
    return [Request([user(f"Judge response {i}.")], GenParams(temperature=0.8, max_tokens=96, seed=seed0 + i), schema=Verdict)
            for i in range(n)]


def test_openai_spec_schema_batch(server, tmp_path):
    llm = load_llm(f"openai:{server.url}#tiny", cache_dir=tmp_path, executor={"progress": False}, concurrency=8)
    res = llm.generate(verdicts(24))
    assert [r.ok for r in res] == [True] * 24, [r.error for r in res if not r.ok]
    assert all(isinstance(r.parsed, Verdict) and r.completion_tokens > 0 and r.prompt_tokens > 0 for r in res)
    assert res[0].fingerprint == "openai:tiny"
    again = load_llm(f"openai:{server.url}#tiny", cache_dir=tmp_path, executor={"progress": False})
    assert [r.text for r in again.generate(verdicts(24))] == [r.text for r in res] and again.stats.backend_calls == 0


def test_two_urls_spread_the_work(server, tmp_path):
    "Two URLs (the same server under two host names) share a batch."
    spec = f"openai:{server.url},http://localhost:{server.port}/v1#tiny"
    llm = load_llm(spec, cache=False, executor={"progress": False}, concurrency=2)
    res = llm.generate(verdicts(16, seed0=100))
    assert all(r.ok for r in res) and all(v > 0 for v in llm.backend.served.values()), llm.backend.served


def test_server_killed_and_restarted_mid_batch(server, tmp_path):
    "SIGKILL the server after some answers, restart it: the batch completes, every request answered exactly once."
    n = 48
    llm = load_llm(f"openai:{server.url}#tiny", cache_dir=tmp_path / "c", executor={"progress": False},
                   concurrency=4, max_retries=40, backoff_s=0.5, backoff_max_s=4.0, timeout_s=60.0)
    before = server.answered()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("res", llm.generate(verdicts(n, seed0=1000))))
    t.start()
    t0 = time.time()
    while llm.backend.served[server.url] < 8 and time.time() - t0 < 120: time.sleep(0.02)
    served_at_kill = llm.backend.served[server.url]
    assert 8 <= served_at_kill < n, served_at_kill
    server.kill()
    time.sleep(2)
    server.start()
    t.join(timeout=400)
    assert not t.is_alive()
    res = out["res"]
    assert len(res) == n and [r.ok for r in res] == [True] * n, [r.error for r in res if not r.ok]
    assert server.answered() - before == n                  # no request answered twice, none lost
    assert llm.backend.served[server.url] == n
    # and each answer is the one its request asked for: the same seeds on the restarted server give the same texts
    ref = load_llm(f"openai:{server.url}#tiny", cache=False, executor={"progress": False}).generate(verdicts(n, seed0=1000))
    assert sum(a.text == b.text for a, b in zip(res, ref)) >= n - 2


def test_unknown_model_is_a_one_line_error(server):
    from matrix_nb.core.config import ConfigError
    with pytest.raises(ConfigError, match=r"does not serve model 'nope' \(it serves: tiny\)"):
        load_llm(f"openai:{server.url}#nope", cache=False)


def test_api_key_is_never_written(server, tmp_path):
    "The key comes from the environment and appears in no run directory, cache or output file."
    from conftest import run_cli
    secret = "sk-test-" + "9f3c" * 8
    r = run_cli("llm", "generate", "--model", f"openai:{server.url}#tiny", "--prompt", "hi",
                "--max-tokens", "8", "--cache-dir", tmp_path / "cache", "--runs", tmp_path / "runs", "--out", tmp_path / "o.jsonl",
                env={"OPENAI_API_KEY": secret})
    assert r.returncode == 0, r.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 4
    leaked = [str(p) for p in files if secret.encode() in p.read_bytes()]
    assert not leaked, leaked
