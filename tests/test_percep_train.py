"""PragComm training through the CLI in a subprocess: synthetic scenes from `percep make-data`, a short smoke run of
`percep train` that writes a run directory and resumes, the trained model's detections in every fusion mode, and bad
configs (exit 2, one line naming the file and key)."""
import json

import pytest

from conftest import ROOT, run_cli

SMOKE = ROOT / "configs" / "pragcomm_smoke_train.yaml"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    "Three small synthetic scenarios (2 CAVs, 3 frames, 16-ring LiDAR) written by the CLI."
    d = tmp_path_factory.mktemp("percep_train") / "synth"
    r = run_cli("percep", "make-data", "--out", d, "--frames", "3", "--vehicles", "8", "--agents", "2", "--seed", "3",
                "--set", "rings=16", "--set", "h_res=0.8", "--runs", d.parent / "runs")
    assert r.returncode == 0, r.stderr
    return d


def one_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_train_smoke_resume_and_detect(dataset, tmp_path):
    out = tmp_path / "run"
    r = run_cli("percep", "train", "--config", SMOKE, "--set", f"data={dataset}", "--set", "max_steps=4",
                "--set", "log_every=1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "train: intermediate (max fusion, comm dense), 4 steps (resumed from 0)" in r.stdout, r.stdout
    assert (out / "model.pt").is_file() and (out / "checkpoints" / "last.pt").is_file()
    assert json.loads((out / "provenance.json").read_text())["status"] == "ok"
    r = run_cli("percep", "train", "--config", SMOKE, "--set", f"data={dataset}", "--set", "max_steps=6",
                "--set", "log_every=1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "6 steps (resumed from 4)" in r.stdout, r.stdout
    steps = [json.loads(l)["step"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]

    from matrix_nb.percep.data import collate_collab
    from matrix_nb.percep.train import MODES, detect, load_model, make_dataset
    model, cfg = load_model(out / "model.pt")
    assert cfg.max_steps == 6 and cfg.model_config().grid.shape == (64, 64)
    ds = make_dataset(cfg, train=False, split="test")
    batch = collate_collab([ds[0], ds[1]])
    for mode in MODES:
        res = detect(model, batch, mode)
        assert len(res) == 2
        for d in res:
            assert d.boxes.shape[1:] == (7,) and d.scores.shape == (len(d.boxes),)


@pytest.mark.slow
def test_stage2_codebook_from_stage1(dataset, tmp_path):
    "Stage 1 (dense) then stage 2 (backbone_fix, PragComm codebook) through the shipped smoke configs."
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    r = run_cli("percep", "train", "--config", SMOKE, "--set", f"data={dataset}", "--set", "max_steps=2", "--out", s1)
    assert r.returncode == 0, r.stderr
    r = run_cli("percep", "train", "--config", ROOT / "configs" / "pragcomm_smoke_stage2.yaml", "--set", f"data={dataset}",
                "--set", f"init_checkpoint={s1 / 'model.pt'}", "--set", "max_steps=2", "--set", "codebook_stage_sizes=[16, 16]",
                "--out", s2)
    assert r.returncode == 0, r.stderr
    assert "train: intermediate (max fusion, comm pragcomm, backbone_fix), 2 steps" in r.stdout, r.stdout
    import torch
    a, b = torch.load(s1 / "model.pt", weights_only=False)["model"], torch.load(s2 / "model.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("detector."))
    assert any(k.startswith("comm_module.codebook.") for k in b)
    r = run_cli("percep", "train", "--config", ROOT / "configs" / "pragcomm_smoke_stage2.yaml", "--set", f"data={dataset}",
                "--set", f"init_checkpoint={tmp_path / 'none.pt'}", "--out", tmp_path / "s3")
    assert r.returncode == 2 and "checkpoint not found" in one_line(r.stderr)


@pytest.mark.parametrize("text,expect", [
    ("mode: early\nbatchsize: 2\n", "batchsize: unknown key"),
    ("epochs: two\n", "epochs: expected int"),
    ("mode: dense\n", "mode: 'dense' is not valid"),
    ("layer_nums: [1, 1]\n", "layer_strides: needs 2 values"),
])
def test_train_bad_config(tmp_path, text, expect):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    r = run_cli("percep", "train", "--config", f, "--runs", tmp_path / "runs")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "bad.yaml" in line and expect in line, line


def test_train_missing_data(tmp_path):
    r = run_cli("percep", "train", "--config", SMOKE, "--set", f"data={tmp_path / 'nothing'}", "--runs", tmp_path / "runs")
    assert r.returncode == 2
    assert "data: dataset not found" in one_line(r.stderr)
