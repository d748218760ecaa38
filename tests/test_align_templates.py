"""Chat formats with the tiny tokenizer: masks token by token on multi-turn chats with system messages, and the
saved tokenizer prompts the LLM layer exactly as training rendered the prompt."""
import pytest
from transformers import AutoTokenizer

from matrix_nb.align.templates import FORMATS, assistant_spans, encode_chat, prepare_tokenizer, render
from matrix_nb.llm.tiny import tiny_model_path

CHAT = [{"role": "system", "content": "You are careful."}, {"role": "user", "content": "Is fire hot?"},
        {"role": "assistant", "content": "Yes, very."}, {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Combustion releases energy as heat and light."},
        {"role": "user", "content": "Thanks"}, {"role": "assistant", "content": "You're welcome!"}]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_masks_token_by_token(fmt):
    tok = prepare_tokenizer(AutoTokenizer.from_pretrained(tiny_model_path(0)), fmt)
    chat = CHAT if fmt != "native" else CHAT[1:]
    enc = encode_chat(chat, tok, fmt)
    text, spans = assistant_spans(chat, fmt, tok)
    offs = tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert len(offs) == len(enc["input_ids"])
    for (a, b), m in zip(offs, enc["assistant_masks"]):
        inside = any(s <= a < e for s, e in spans)
        assert m == int(inside)
        if m: assert any(s <= a and b <= e for s, e in spans), "a loss token straddles an assistant span"
    covered = "".join(text[a:b] for (a, b), m in zip(offs, enc["assistant_masks"]) if m)
    assert covered == "".join(text[s:e] for s, e in spans)
    for m in chat:
        if m["role"] == "assistant": assert m["content"] in covered
        else: assert m["content"] not in covered


@pytest.mark.parametrize("fmt", ["vicuna_v1.1", "llama3", "mistral_inst"])
def test_llm_layer_prompts_like_training(fmt, tmp_path):
    from transformers import AutoModelForCausalLM
    from matrix_nb.llm.hf import HFBackend
    from matrix_nb.llm.core import Request
    tok = AutoTokenizer.from_pretrained(tiny_model_path(0)); model = AutoModelForCausalLM.from_pretrained(tiny_model_path(0))
    prepare_tokenizer(tok, fmt, model)
    model.save_pretrained(tmp_path); tok.save_pretrained(tmp_path)
    be = HFBackend(tmp_path)
    msgs = CHAT[1:4]
    ids = be._prompt_ids(Request(msgs))
    want = tok(render(msgs, fmt, tok, add_generation_prompt=True), add_special_tokens=False)["input_ids"]
    assert ids == want
    assert tok.convert_tokens_to_ids(tok.eos_token) in be.eos_ids
