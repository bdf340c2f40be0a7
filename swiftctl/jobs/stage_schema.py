"""The ``stage`` key and the ``[rlhf]`` table of a job: preference (DPO/KTO/ORPO/SimPO/CPO) and RL (GRPO) stages.

Cross-field rules that need the whole job (GRPO-only keys on a DPO job, vLLM on a CPU job, the reward registry)
are checked by :mod:`swiftctl.jobs.stages` at compile time, with the TOML location.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["sft", "dpo", "kto", "orpo", "simpo", "cpo", "grpo"]
STAGES: tuple[str, ...] = ("sft", "dpo", "kto", "orpo", "simpo", "cpo", "grpo")
GRPO_KEYS = ("num_generations", "max_completion_length", "reward_funcs", "reward_weights", "temperature", "use_vllm",
             "vllm_mode", "vllm_server_host", "vllm_server_port", "vllm_fallback", "persona_name",
             "persona_reference_column", "log_completions")


class Rlhf(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    beta: float | None = Field(None, ge=0, description="Deviation from the reference model (ms-swift default: 0.1; "
                               "GRPO 0.04; SimPO 2.0).")
    loss_type: list[str] | None = Field(None, description="e.g. [\"sigmoid\"] for DPO (several only for DPO, MPO).")
    ref_model: str | None = Field(None, description="Reference model for a full fine-tune (default: the starting "
                                  "model; LoRA uses the model without the adapter or --ref_adapters).")
    num_generations: int | None = Field(None, ge=2, description="GRPO: completions per prompt (G).")
    max_completion_length: int | None = Field(None, gt=0, description="GRPO: max new tokens per completion.")
    reward_funcs: list[str] = Field(default_factory=list, description="GRPO reward functions registered in ms-swift's "
                                    "orms, e.g. [\"swiftctl_persona\", \"format\"].")
    reward_weights: list[float] | None = Field(None, description="One weight per reward function.")
    temperature: float | None = Field(None, gt=0, description="GRPO sampling temperature (ms-swift default 0.9).")
    use_vllm: bool = Field(False, description="GRPO: generate with vLLM (needs a GPU).")
    vllm_mode: Literal["colocate", "server"] | None = Field(None, description="vLLM rollout: colocate (in the "
                                                             "training processes) or server (`swift rollout`).")
    vllm_server_host: str | None = None
    vllm_server_port: int | None = Field(None, ge=1, le=65535)
    vllm_fallback: bool = Field(False, description="On a CPU job, generate with transformers instead of vLLM "
                                "(otherwise asking for vLLM on CPU is an error).")
    persona_name: str | None = Field(None, description="The name swiftctl_persona rewards (default: data.identity."
                                     "name[0]).")
    persona_reference_column: str | None = Field(None, description="A dataset column with reference answers: "
                                                 "swiftctl_persona adds ROUGE-L closeness to it.")
    log_completions: bool | None = None
