"""The code sandbox contains an infinite loop, a forking memory hog (bypassing the Python guard with ctypes), a
network attempt against a live local server, and an oversized file; normal code still passes."""
import socket
import threading
import time

import pytest

from matrix_nb.align.metrics import SandboxConfig, network_isolation_available, run_sandboxed


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f: return f.read().split(")")[-1].split()[0] != "Z"
    except OSError: return False


def test_infinite_loop_is_killed():
    t0 = time.time()
    r = run_sandboxed("while True:\n    pass\n", SandboxConfig(timeout_s=1.5))
    assert r.status == "timeout" and time.time() - t0 < 6


def test_forking_memory_hog_is_contained(tmp_path):
    "Children forked through libc (past the guard) each grab memory and sleep; the timeout kills the whole group."
    pids = tmp_path / "pids.txt"
    code = f"""
import ctypes, os, time
libc = ctypes.CDLL(None)
for i in range(12):
    pid = libc.fork()
    if pid == 0:
        with open({str(pids)!r}, "a") as f: f.write(str(os.getpid()) + "\\n")
        try: hog = bytearray(64 << 20)
        except MemoryError: pass
        time.sleep(120)
        os._exit(0)
hog = []
while True:
    try: hog.append(bytearray(32 << 20))
    except MemoryError: time.sleep(0.05)
"""
    r = run_sandboxed(code, SandboxConfig(timeout_s=3, memory_mb=512))
    assert r.status == "timeout"
    time.sleep(0.5)
    children = [int(x) for x in pids.read_text().split()] if pids.exists() else []
    assert children, "the children never started"
    assert not [p for p in children if _alive(p)], "forked children survived the sandbox"


def test_memory_limit():
    r = run_sandboxed("x = bytearray(3 << 30)", SandboxConfig(memory_mb=512))
    assert r.status == "failed" and "MemoryError" in r.stderr


def test_file_size_limit(tmp_path):
    r = run_sandboxed("open('big.bin', 'wb').write(b'0' * (32 << 20))", SandboxConfig(file_size_mb=2))
    assert r.status == "failed"


@pytest.fixture
def server():
    "A TCP server on localhost that records every connection it receives."
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8); s.settimeout(0.2)
    hits, stop = [], threading.Event()
    def loop():
        while not stop.is_set():
            try: c, _ = s.accept(); hits.append(1); c.close()
            except OSError: pass
    t = threading.Thread(target=loop, daemon=True); t.start()
    yield s.getsockname()[1], hits
    stop.set(); t.join(); s.close()


def test_network_guard_blocks_socket(server):
    port, hits = server
    r = run_sandboxed(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n")
    assert r.status == "failed" and "PermissionError" in r.stderr
    time.sleep(0.3); assert hits == []


@pytest.mark.skipif(not network_isolation_available(), reason="unprivileged user namespaces are not available here")
def test_network_namespace_blocks_raw_socket(server):
    "Even bypassing the Python guard (the C-level _socket module), the empty network namespace has no route."
    port, hits = server
    code = f"import _socket\ns = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))\n"
    r = run_sandboxed(code, SandboxConfig(network="unshare"))
    assert r.status == "failed" and r.isolation == "unshare", r.stderr
    time.sleep(0.3); assert hits == []
    # control: the same raw connection without the namespace reaches the server, so the test can detect a leak
    ok = run_sandboxed(code, SandboxConfig(network="guard"))
    assert ok.status == "passed", ok.stderr
    time.sleep(0.3); assert hits


def test_normal_code_passes():
    r = run_sandboxed("import json, math\nassert json.loads('[1]') == [1] and math.isclose(math.pi, 3.14159, abs_tol=1e-5)")
    assert r.status == "passed", r.stderr
