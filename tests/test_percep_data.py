"""PragComm data in a subprocess: `percep make-data` / `check-data`, the reader round trip, bad input (exit 2, one
line naming the file), and a generator killed mid-scenario leaving nothing that looks complete."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, run_cli

SMALL = ["--frames", "3", "--vehicles", "8", "--agents", "3", "--seed", "5"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    "A small synthetic dataset written by the CLI (3 scenarios x 3 frames x 3 agents)."
    d = tmp_path_factory.mktemp("percep") / "synth"
    r = run_cli("percep", "make-data", "--out", d, *SMALL, "--runs", d.parent / "runs")
    assert r.returncode == 0, r.stderr
    assert "make-data: 3 scenarios (train 1, validate 1, test 1)" in r.stdout
    return d


def one_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_layout_and_reader_round_trip(dataset):
    from matrix_nb.percep.data import read_opv2v, synth_sequences
    from matrix_nb.percep.synth import SynthConfig
    scen = sorted(p.relative_to(dataset).as_posix() for p in dataset.glob("*/*"))
    assert scen == ["test/synth_s5_002", "train/synth_s5_000", "validate/synth_s5_001"]
    sc = dataset / "test" / "synth_s5_002"
    agents = sorted(p.name for p in sc.iterdir() if p.is_dir())
    assert len(agents) == 3 and (sc / "data_protocol.yaml").exists()
    assert sorted(p.name for p in (sc / agents[0]).iterdir()) == [f"00000{i}.{e}" for i in range(3) for e in ("pcd", "yaml")]
    meta = yaml.safe_load((sc / agents[1] / "000001.yaml").read_text())
    assert {"lidar_pose", "true_ego_pos", "predicted_ego_pos", "ego_speed", "vehicles"} <= set(meta)
    v = next(iter(meta["vehicles"].values()))
    assert set(v) == {"location", "center", "extent", "angle", "speed"}
    # the reader gives back exactly what the generator simulated (in-memory path), for every split
    prot = yaml.safe_load((sc / "data_protocol.yaml").read_text())
    cfg = SynthConfig(**{k: tuple(x) if isinstance(x, list) else x for k, x in prot["config"].items()})
    for i, split in enumerate(["train", "validate", "test"]):
        disk, mem = read_opv2v(dataset, split)[0], synth_sequences(cfg, 1, start=i)[0]
        assert disk.name == mem.name and disk.frames == mem.frames
        for fd, fm in zip(disk, mem):
            assert [a.agent_id for a in fd.agents] == [a.agent_id for a in fm.agents]
            for a, b in zip(fd.agents, fm.agents):
                np.testing.assert_array_equal(a.points, b.points)
                np.testing.assert_array_equal(a.boxes, b.boxes)
                np.testing.assert_array_equal(a.lidar_pose, b.lidar_pose)
            np.testing.assert_array_equal(fd.gt_ids, fm.gt_ids)


def test_check_data_reports(dataset, tmp_path):
    r = run_cli("percep", "check-data", dataset, "--runs", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    for split in ("train", "validate", "test"):
        assert f"check-data: {split}: 1 scenarios, 3 frames, 9 agent-frames" in r.stdout


def _damaged(dataset, tmp_path, how):
    d = tmp_path / "bad"; shutil.copytree(dataset, d)
    sc = d / "test" / "synth_s5_002"
    agents = sorted(p.name for p in sc.iterdir() if p.is_dir())
    if how == "corrupt_pcd":
        target = sc / agents[0] / "000001.pcd"; target.write_bytes(b"\x89garbage" * 100)
    elif how == "truncated_pcd":
        target = sc / agents[1] / "000002.pcd"; target.write_bytes(target.read_bytes()[:-100])
    elif how == "yaml_missing_field":
        target = sc / agents[2] / "000000.yaml"; m = yaml.safe_load(target.read_text()); del m["lidar_pose"]
        target.write_text(yaml.safe_dump(m))
    elif how == "vehicle_missing_field":
        target = sc / agents[0] / "000002.yaml"; m = yaml.safe_load(target.read_text())
        del next(iter(m["vehicles"].values()))["extent"]; target.write_text(yaml.safe_dump(m))
    elif how == "yaml_syntax":
        target = sc / agents[1] / "000000.yaml"; target.write_text("lidar_pose: [1, 2,\n")
    elif how == "agent_frame_missing":
        target = sc / agents[1] / "000001.pcd"; target.unlink()
    return d, target


@pytest.mark.parametrize("how, message", [
    ("corrupt_pcd", "not a PCD file"),
    ("truncated_pcd", "truncated:"),
    ("yaml_missing_field", "lidar_pose: required field is missing"),
    ("vehicle_missing_field", ".extent: required field is missing"),
    ("yaml_syntax", "line 2: invalid YAML"),
])
def test_bad_input_exits_2_with_one_line_naming_the_file(dataset, tmp_path, how, message):
    d, target = _damaged(dataset, tmp_path, how)
    r = run_cli("percep", "check-data", d, "--split", "test", "--runs", tmp_path / "runs")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    line = one_line(r.stderr)
    assert str(target) in line and message in line, line
    assert "Traceback" not in r.stderr


def test_missing_agent_frame_is_a_warning_or_strict_error(dataset, tmp_path):
    d, target = _damaged(dataset, tmp_path, "agent_frame_missing")
    r = run_cli("percep", "check-data", d, "--split", "test", "--runs", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    assert "3 frames, 8 agent-frames" in r.stdout                  # the agent is left out of that one frame
    assert "1 file(s) missing (first 000001.pcd); agent left out of those frames" in r.stderr
    r = run_cli("percep", "check-data", d, "--split", "test", "--strict", "--runs", tmp_path / "runs")
    assert r.returncode == 2 and str(target) in one_line(r.stderr) and "file missing" in r.stderr


def test_bad_arguments_exit_2(tmp_path):
    r = run_cli("percep", "make-data", "--out", tmp_path / "x", "--agents", "two", "--runs", tmp_path / "runs")
    assert r.returncode == 2 and "--agents: expected N or MIN-MAX, got 'two'" in one_line(r.stderr)
    r = run_cli("percep", "make-data", "--out", tmp_path / "x", "--scenes", "0", "--runs", tmp_path / "runs")
    assert r.returncode == 2 and "scenes: must be >= 1" in one_line(r.stderr)
    r = run_cli("percep", "check-data", tmp_path / "x.pkl", "--format", "v2xsim", "--runs", tmp_path / "runs")
    assert r.returncode == 2 and "x.pkl: index file not found" in one_line(r.stderr)
    r = run_cli("percep", "make-data", "--help")
    assert r.returncode == 0 and "--pose-noise" in r.stdout


def _complete(scenario: Path, frames: int) -> bool:
    agents = [p for p in scenario.iterdir() if p.is_dir()]
    return (scenario / "data_protocol.yaml").exists() and len(agents) >= 2 and all(
        (a / f"{t:06d}.pcd").exists() and (a / f"{t:06d}.yaml").exists() for a in agents for t in range(frames))


def test_killed_generator_leaves_nothing_complete_looking(tmp_path):
    out = tmp_path / "k"
    exe = shutil.which("matrix-nb", path=str(Path(sys.executable).parent)) or "matrix-nb"
    args = [exe, "percep", "make-data", "--out", str(out), "--scenes", "1", "--frames", "40", "--vehicles", "12",
            "--seed", "9", "--runs", str(tmp_path / "runs")]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "train").glob(".synth_s9_000.*.tmp/*/000003.pcd")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert list((out / "train").glob(".*.tmp")), "the kill did not land mid-scenario"
    visible = [p for p in (out / "train").iterdir() if not p.name.startswith(".")]
    assert visible == []                                          # no scenario under its final name
    from matrix_nb.percep.data import DataError, read_opv2v
    with pytest.raises(DataError, match="no scenario folders"):
        read_opv2v(out, "train")
    # rerunning resumes: the stale temporary folder goes, the scenario is written in full
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in (out / "train").iterdir()] == ["synth_s9_000"]
    assert _complete(out / "train" / "synth_s9_000", 40)
    assert len(read_opv2v(out, "train")[0]) == 40
