"""The `matrix-nb` command in a subprocess: help everywhere, exit code 2 with one line on bad input, reproduce end to end."""
import json
import re

import pytest

from conftest import ROOT, run_cli
from matrix_nb.cli.main import COMMANDS
from matrix_nb.core.report import ITEMS


def subcommands():
    "Every registered command path, e.g. ('reproduce',), ('sim', 'run')."
    import argparse
    from matrix_nb.cli.main import build_parser
    out = []
    def walk(p, prefix):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    out.append(prefix + (name,)); walk(sp, prefix + (name,))
    walk(build_parser(), ())
    return out


def test_help_everywhere():
    r = run_cli("--help")
    assert r.returncode == 0 and "reproduce" in r.stdout
    paths = subcommands()
    assert set(COMMANDS) <= {p[0] for p in paths}
    for path in paths:
        r = run_cli(*path, "--help")
        assert r.returncode == 0, (path, r.stderr)
        assert len(r.stdout.splitlines()) >= 3, path


@pytest.mark.parametrize("args, needle", [
    (["reproduce", "--only", "matrx"], "unknown paper 'matrx'"),
    (["reproduce", "--only", "matrix/nothing*"], "matches no repro notebook"),
    (["reproduce", "--only", "matrix/theorem*", "-p", "bogus=1"], "-p: bogus: unknown parameter"),
    (["reproduce", "-p", "novalue"], "expected key=value"),
    (["reproduce", "--profile", "huge"], "invalid choice"),
    (["reproduce", "--nbs", "/nonexistent/nbs"], "/nonexistent/nbs: folder not found"),
    (["nonsense"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(args, needle, tmp_path):
    r = run_cli(*args, "--out", tmp_path) if args[0] == "reproduce" and "--profile" not in args else run_cli(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert needle in lines[0], lines[0]


def test_reproduce_writes_index_with_every_item(tmp_path):
    out = tmp_path / "reports"
    r = run_cli("reproduce", "--only", "matrix/theorem*", "-p", "grid=50", "--out", out, "--runs", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    rec = json.loads((out / "matrix" / "theorem_4_5.json").read_text())
    assert rec["status"] == "reproduced" and rec["provenance"]["git"] is not None
    idx = (out / "index.md").read_text()
    for it in ITEMS:
        assert f"`{it.name}`" in idx, it.name
    rows = [l for l in idx.splitlines() if l.startswith("| ") and "`" in l]
    assert len(rows) == len(ITEMS)
    assert all(re.search(r"\| (reproduced|smoke only|not yet implemented|cannot be reproduced here: .+) \|$", l) for l in rows)
    runs = list((tmp_path / "runs").glob("reproduce-*"))
    assert len(runs) == 1 and (runs[0] / "executed" / "matrix_theorem_4_5.ipynb").exists()
    prov = json.loads((runs[0] / "provenance.json").read_text())
    assert prov["status"] == "ok" and "--only" in prov["command"]


def test_reproduce_list():
    r = run_cli("reproduce", "--list", "--only", "matrix")
    assert r.returncode == 0 and "matrix/theorem_4_5" in r.stdout
