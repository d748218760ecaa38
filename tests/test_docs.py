"""The docs site builds offline and renders in a real headless Chromium."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, in_ci, run_cli
from matrix_nb.core.runs import start_run

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if in_ci(): pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


def browse(exe, url, profile, *extra, timeout=120):
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_docs_site_renders_in_chromium(tmp_path):
    exe = chromium()
    site = tmp_path / "site"
    r = run_cli("docs", "--out", site)
    assert r.returncode == 0, r.stderr[-2000:]
    home = site / "index.html"
    module = site / "nbs" / "00_core.config.html"
    assert home.exists() and module.exists(), sorted(p.name for p in site.iterdir())
    with start_run("test-docs", root=ROOT / "runs" / "tests") as run:
        dom = browse(exe, home.as_uri(), tmp_path / "prof1", "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-1000:]
        (run / "home.html").write_text(dom.stdout)
        assert "matrix_nb" in dom.stdout and "MATRIX-Gen" in dom.stdout and "Quick start" in dom.stdout
        dom2 = browse(exe, module.as_uri(), tmp_path / "prof2", "--dump-dom")
        assert "ConfigError" in dom2.stdout and "load_config" in dom2.stdout, dom2.stdout[:500]
        shot = run / "home.png"
        s = browse(exe, home.as_uri(), tmp_path / "prof3", f"--screenshot={shot}", "--window-size=1280,900")
        assert shot.exists() and shot.stat().st_size > 10_000, s.stderr[-1000:]
        print(f"screenshot: {shot}")
