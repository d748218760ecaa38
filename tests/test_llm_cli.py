"""The LLM commands in a subprocess: `tiny-model`, `llm generate`, and one-line errors with exit code 2."""
import json

import pytest

from conftest import run_cli


def test_tiny_model_command(tmp_path):
    r = run_cli("tiny-model", tmp_path / "m", "--seed", "5", "--runs", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    assert "tiny-model:" in r.stdout and (tmp_path / "m" / "model.safetensors").exists()
    assert json.loads((tmp_path / "m" / "tiny.json").read_text())["seed"] == 5
    run = next((tmp_path / "runs").glob("tiny-model-*"))
    assert json.loads((run / "provenance.json").read_text())["status"] == "ok"
    from matrix_nb.llm.tiny import build_tiny_model
    same = build_tiny_model(tmp_path / "again", seed=5)
    assert (same / "model.safetensors").read_bytes() == (tmp_path / "m" / "model.safetensors").read_bytes()


def test_llm_generate_with_a_built_folder(tmp_path):
    assert run_cli("tiny-model", tmp_path / "m", "--runs", tmp_path / "runs").returncode == 0
    (tmp_path / "p.jsonl").write_text('{"prompt": "Who is here?"}\n{"prompt": "Why?"}\n')
    args = ["llm", "generate", "--model", f"hf:{tmp_path / 'm'}", "--prompts", tmp_path / "p.jsonl", "--max-tokens", "6",
            "--out", tmp_path / "o.jsonl", "--cache-dir", tmp_path / "c", "--runs", tmp_path / "runs"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [x["prompt"] for x in recs] == ["Who is here?", "Why?"] and all(x["ok"] and x["completion_tokens"] == 6 for x in recs)
    r2 = run_cli(*args)
    assert r2.returncode == 0 and "2 cached" in r2.stderr


@pytest.mark.parametrize("spec, message", [
    ("gpt-4", "unknown LLM spec 'gpt-4'"),
    ("tiny:seven", "the tiny seed must be an integer"),
    ("hf:/no/such/model", "model folder not found: /no/such/model"),
    ("vllm:/no/such/model", "model folder not found: /no/such/model"),
    ("openai:http://127.0.0.1:9/v1#m", "openai server http://127.0.0.1:9/v1 is unreachable"),
    ("openai:127.0.0.1:9#m", "'127.0.0.1:9' is not an http(s) URL"),
])
def test_bad_specs_exit_2_with_one_line(tmp_path, spec, message):
    r = run_cli("llm", "generate", "--model", spec, "--prompt", "hi", "--runs", tmp_path / "runs")
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_bad_prompts_file_exit_2(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"text": "x"}\n')
    r = run_cli("llm", "generate", "--model", "tiny", "--prompts", tmp_path / "p.jsonl", "--runs", tmp_path / "runs")
    assert r.returncode == 2 and 'line 1: expected a "prompt" string' in r.stderr and r.stderr.count("\n") == 1
