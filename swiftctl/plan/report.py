"""The `swiftctl plan --json` payload (pydantic models; the schema is exported from PlanReport)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Term(BaseModel):
    gib: float
    formula: str = Field(description="How the term was derived (docs/plan.md).")


class Memory(BaseModel):
    per_gpu_peak_gib: float = Field(description="Headline: predicted peak per GPU at the job's worst-case micro-batch.")
    terms: dict[str, Term] = Field(description="weights, gradients, optimizer, activations, logits, overhead.")
    fits: bool | None = Field(description="per_gpu_peak_gib <= gpu_mem_gib; null when the GPU memory is unknown.")
    gpu_mem_gib: float | None
    gpu: str | None = Field(description="GPU the verdict is for, and where it came from.")
    tokens_per_micro_batch: int
    sequence_length: int
    expected_peak_gib: float | None = Field(None, description="Peak for the real length distribution (data stats).")
    expected_tokens_per_micro_batch: int | None = None
    setup: str = Field(description="The resolved setup: tuner, sharding, checkpointing, attention, liger.")


class Time(BaseModel):
    tokens_per_step: int = Field(description="Tokens per optimizer step (global batch), padded as computed.")
    steps_per_epoch: int | None
    total_steps: int | None
    flops_per_token: float
    wall_hours: float | None
    step_seconds: float | None = Field(description="Seconds per optimizer step at the assumed MFU.")
    assumption: str
    padding_waste_pct: float | None = Field(None, description="Share of computed tokens that are padding (padded batches).")
    padding_waste_pct_padding_free: float | None = Field(None, description="The same with padding_free/packing (0).")
    data_rows: int | None = None


class Recommendation(BaseModel):
    change: str = Field(description="The job change (TOML key = value).")
    per_gpu_peak_gib: float
    saves_gib: float
    fits: bool | None
    effect: str


class PlanReport(BaseModel):
    job: str
    model: str
    memory: Memory
    time: Time
    recommendations: list[Recommendation]
    notes: list[str] = Field(default_factory=list)
