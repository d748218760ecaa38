"""align train: real trl steps on the tiny model (SFT loss falls, masked tokens get no loss, DPO after SFT moves the
margin, LoRA, resume after SIGKILL, CLI with config files and overrides, QLoRA refused on CPU)."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

from matrix_nb.align.templates import encode_chat, prepare_tokenizer
from matrix_nb.align.train import load_rows, masked_loss_check, preference_margin, recipe_config, run_status, train


def _sft_file(tmp_path, n=12):
    rows = [{"conversations": [{"from": "human", "value": f"What does rule {i} say?"},
                               {"from": "gpt", "value": f"Rule {i} says: be kind, be safe, be honest."}]} for i in range(n)]
    p = tmp_path / "sft.jsonl"; p.write_text("\n".join(json.dumps(r) for r in rows)); return p


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sft")
    cfg = recipe_config("smoke_sft", model="tiny", data=str(_sft_file(tmp)), out=tmp / "run", chat_format="vicuna_v1.1")
    return train(cfg)


def test_sft_loss_decreases(sft_run):
    m = sft_run.metrics
    assert m["loss_n"] >= 6 and m["loss_last"] < m["loss_first"] - 0.5, m
    assert run_status(sft_run.run_dir) == "ok"
    lines = [json.loads(l) for l in (sft_run.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert sum("loss" in l for l in lines) == m["loss_n"]          # every logged loss reached the run's metrics


def test_masked_tokens_get_no_loss(sft_run):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(sft_run.model_dir)
    model = AutoModelForCausalLM.from_pretrained(sft_run.model_dir)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "And?"}, {"role": "assistant", "content": "That is all."}]
    chk = masked_loss_check(model, tok, chat, "vicuna_v1.1")
    assert abs(chk["model_loss"] - chk["assistant_ce"]) < 1e-5
    assert chk["grad_prompt"] == 0.0 and chk["grad_assistant"] > 0
    enc = encode_chat(chat, tok, "vicuna_v1.1")
    kept = tok.decode([i for i, m in zip(enc["input_ids"], enc["assistant_masks"]) if m])
    assert kept == " Hello.</s> That is all.</s>".replace("</s>", tok.eos_token)


def test_dpo_after_sft_moves_margin(sft_run, tmp_path):
    pref = [{"prompt": f"What does rule {i} say?", "chosen": f"Rule {i} says: be kind, be safe, be honest.",
             "rejected": "Figure it out yourself."} for i in range(8)]
    p = tmp_path / "pref.jsonl"; p.write_text("\n".join(json.dumps(r) for r in pref))
    before = preference_margin(sft_run.model_dir, pref)
    r = train(recipe_config("smoke_dpo", model=str(sft_run.model_dir), data=str(p), out=tmp_path / "dpo", chat_format="vicuna_v1.1"))
    after = preference_margin(r.model_dir, pref)
    assert after > before + 1.0, (before, after)
    assert r.metrics["margin_last"] > r.metrics["margin_first"] and r.metrics["reward_accuracy_last"] > 0.5


def test_lora_saves_adapter_and_merged_model(tmp_path):
    r = train(recipe_config("smoke_lora", model="tiny", data=str(_sft_file(tmp_path)), out=tmp_path / "lora"))
    assert (tmp_path / "lora" / "adapter" / "adapter_model.safetensors").exists()
    assert (r.model_dir / "model.safetensors").exists() and r.metrics["loss_last"] < r.metrics["loss_first"]
    from matrix_nb.llm.load import load_llm                       # the merged model loads in the LLM layer
    from matrix_nb.llm.core import GenParams, Request, user
    res = load_llm(f"hf:{r.model_dir}", cache=False).generate([Request([user("What does rule 1 say?")], GenParams(max_tokens=8, seed=0))])
    assert res[0].ok


def test_builtin_smoke_data_and_bad_rows(tmp_path):
    assert len(load_rows("smoke:sft")) == 24
    p = tmp_path / "mixed.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [{"prompt": "q", "response": "a"}, {"text": "no chat"}]))
    r = train(recipe_config("smoke_sft", model="tiny", data=str(p), out=tmp_path / "mixed", max_steps=1))
    assert r.metrics["data"]["skipped"] == 1 and r.metrics["data"]["rows"] == 1


def test_datasets_folder_and_dpo_with_lora(tmp_path):
    "Training data from a `datasets` folder (save_to_disk); DPO on a LoRA adapter uses the frozen base as reference."
    from datasets import Dataset
    Dataset.from_list(load_rows("smoke:dpo")).save_to_disk(str(tmp_path / "dpo_ds"))
    r = train(recipe_config("smoke_dpo", model="tiny", data=str(tmp_path / "dpo_ds"), out=tmp_path / "dpo_lora", adapter="lora",
                            lora_target_modules=["all-linear"], learning_rate=3e-3))
    assert r.metrics["data"]["rows"] == 12 and (tmp_path / "dpo_lora" / "adapter" / "adapter_config.json").exists()
    assert r.metrics["margin_last"] > r.metrics["margin_first"]


def test_cli_train_config_and_overrides(tmp_path):
    cfg = tmp_path / "t.yaml"
    cfg.write_text((ROOT / "configs" / "align_smoke_sft.yaml").read_text())
    r = run_cli("align", "train", "--config", cfg, f"out={tmp_path / 'run'}", "epochs=1", "data=smoke:sft", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "align train (sft, full): loss" in r.stdout
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "epochs: 1.0" in saved and "chat_format: llama3" in saved
    r2 = run_cli("align", "train", "--config", cfg, f"out={tmp_path / 'run'}", "epochs=1", cwd=tmp_path)
    assert r2.returncode == 0 and "already trained" in r2.stdout


@pytest.mark.parametrize("args,msg", [
    (["lr=1"], "lr: unknown key"),
    (["adapter=qlora"], "qlora needs a CUDA GPU"),
    (["data=missing.jsonl"], "missing.jsonl: no such file"),
    (["chat_format=chatml"], "unknown chat format 'chatml'"),
    (["model=openai:http://x#m"], "training needs local weights"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, args, msg):
    import torch
    if "adapter=qlora" in args and torch.cuda.is_available(): pytest.skip("a GPU is present")
    r = run_cli("align", "train", "--recipe", "smoke_sft", "model=tiny", "data=smoke:sft", f"out={tmp_path / 'o'}", *args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert msg in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.slow
def test_killed_training_resumes_from_checkpoint(tmp_path):
    "SIGKILL after the first checkpoint; the rerun resumes from the newest complete one (not a half-saved one) and finishes."
    exe = Path(sys.executable).parent / "matrix-nb"
    args = [str(exe), "align", "train", "--recipe", "smoke_sft", "model=tiny", "data=smoke:sft", f"out={tmp_path / 'run'}",
            "epochs=30", "save_steps=5", "save_total_limit=1", "logging_steps=5"]
    p = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ck = tmp_path / "run" / "checkpoints"
    t0 = time.time()
    while time.time() - t0 < 240 and not (ck.exists() and any((d / "trainer_state.json").exists() for d in ck.glob("checkpoint-*"))):
        time.sleep(0.2)
    time.sleep(0.5)
    p.send_signal(signal.SIGKILL); p.communicate()
    assert run_status(tmp_path / "run") == "running"                        # killed: not marked finished
    assert not (tmp_path / "run" / "model").exists()                        # and no half-written model
    (ck / "checkpoint-9999").mkdir(exist_ok=True)                           # a save killed before trainer_state.json
    (ck / "checkpoint-9999" / "model.safetensors").write_bytes(b"\0" * 10)
    r = subprocess.run(args[:-4] + ["epochs=2", "save_steps=5", "save_total_limit=1", "logging_steps=5"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "run" / "train_metrics.json").read_text())
    assert m["resumed_from"] and "checkpoint-" in m["resumed_from"] and "checkpoint-9999" not in m["resumed_from"]
    assert not (ck / "checkpoint-9999").exists()
    assert run_status(tmp_path / "run") == "ok" and (tmp_path / "run" / "model" / "model.safetensors").exists()
