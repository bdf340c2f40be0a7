"""The job file schema (TOML): one small pydantic model per table, unknown keys are errors.

``swiftctl job schema`` exports :func:`json_schema` for editors (committed as ``jobs/job.schema.json``).
Relative paths are resolved against the job file's directory by :mod:`swiftctl.jobs.load`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from swiftctl.jobs.envrules import EnvName, EnvValue
from swiftctl.jobs.stage_schema import STAGES, Rlhf, Stage


class _Table(BaseModel):
    # inf/nan are never settings; job files are validated strictly too (jobs/load.py): `true` is not a batch size
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Model(_Table):
    path: str = Field(description="Local model directory (relative to the job file) or a hub id.")
    model_type: str | None = Field(None, description="ms-swift model type, e.g. qwen2 (needed for local dirs).")
    template: str | None = Field(None, description="Chat template, e.g. qwen2_5.")
    torch_dtype: Literal["bfloat16", "float16", "float32"] | None = None
    attn_impl: Literal["sdpa", "eager", "flash_attn", "flash_attention_2", "flash_attention_3"] | None = None
    from_run: str | None = Field(None, description="An SFT run's output dir (or run dir) to start a preference/RL "
                                 "stage from: its best checkpoint (LoRA: --adapters + --ref_adapters; full: --model).")


class Identity(_Table):
    name: list[str] = Field(default_factory=list, description="Model name (zh, en) for self-cognition data.")
    author: list[str] = Field(default_factory=list, description="Model author (zh, en) for self-cognition data.")


def _no_dash(entries: list[str]) -> list[str]:
    bad = [e for e in entries if e.startswith("-")]
    if bad:
        raise ValueError(f"a dataset entry cannot start with '-' (it would read as an option): {bad[0]!r}")
    return entries


class Data(_Table):
    train: list[str] = Field(min_length=1, description="Training datasets: files or hub ids (path_or_id[:subset][#N]).")
    val: list[str] = Field(default_factory=list, description="Validation datasets.")
    system: str | None = Field(None, description="Default system prompt (a row's own system wins).")
    identity: Identity | None = None
    max_length: int | None = Field(None, gt=0, description="Max tokens per sample (set it: None = model maximum).")
    truncation_strategy: Literal["delete", "left", "right"] | None = None
    packing: bool = False
    padding_free: bool = Field(False, description="--padding_free: flatten each batch (no pad tokens; needs flash attention).")
    num_workers: int | None = Field(None, ge=0, description="--dataloader_num_workers")
    num_proc: int | None = Field(None, ge=1, description="--dataset_num_proc")
    strict: bool | None = None

    _entries = field_validator("train", "val")(_no_dash)


class Tuner(_Table):
    type: Literal["lora", "full", "qlora"] = Field("lora", description="qlora = lora on a bnb 4-bit base (--quant_bits 4).")
    lora_rank: int | None = Field(None, gt=0)
    lora_alpha: int | None = Field(None, gt=0)
    lora_dropout: float | None = Field(None, ge=0, lt=1)
    target_modules: list[str] | None = None
    quant_bits: Literal[4, 8] | None = Field(None, description="bitsandbytes base-model quantization (--quant_method bnb).")

    @model_validator(mode="after")
    def _lora_settings_need_lora(self) -> Tuner:
        if self.type == "full" and any(v is not None for v in (self.lora_rank, self.lora_alpha, self.target_modules)):
            raise ValueError("LoRA settings given for a full fine-tune: remove them or set tuner.type = \"lora\"")
        if self.type == "full" and self.quant_bits is not None:
            raise ValueError("a quantized base cannot be fully fine-tuned: set tuner.type = \"qlora\" or remove quant_bits")
        return self

    @property
    def bits(self) -> int | None:
        """Bits of the quantized base model (qlora means 4 unless quant_bits says otherwise)."""
        return self.quant_bits or (4 if self.type == "qlora" else None)


class Train(_Table):
    per_device_batch_size: int = Field(1, gt=0)
    eval_batch_size: int | None = Field(None, gt=0)
    gradient_accumulation_steps: int | None = Field(None, gt=0)
    num_train_epochs: float | None = Field(None, gt=0)
    max_steps: int | None = Field(None, gt=0)
    learning_rate: float | None = Field(None, gt=0)
    warmup_ratio: float | None = Field(None, ge=0, lt=1)
    weight_decay: float | None = Field(None, ge=0)
    gradient_checkpointing: bool | None = None
    deepspeed: Literal["zero0", "zero1", "zero2", "zero3", "zero2_offload", "zero3_offload"] | None = None
    fsdp: Literal["fsdp2"] | None = Field(None, description="ms-swift's FSDP2 preset (full_shard, activation checkpointing).")
    use_liger_kernel: bool | None = Field(None, description="Liger kernels (fused linear cross-entropy, RMSNorm, SwiGLU, RoPE).")
    logging_steps: int | None = Field(None, gt=0)
    eval_steps: int | None = Field(None, gt=0)
    save_steps: int | None = Field(None, gt=0)
    save_total_limit: int | None = Field(None, gt=0)
    seed: int | None = None

    @model_validator(mode="after")
    def _one_sharding(self) -> Train:
        if self.deepspeed and self.fsdp:
            raise ValueError("deepspeed and fsdp exclude each other (ms-swift: FSDP2 is not compatible with DeepSpeed)")
        return self


class Output(_Table):
    dir: str = Field(description="ms-swift output_dir (runs go to <dir>/vN-<time>/).")


# --report_to names of the trackers swiftctl configures (each is a key of transformers' INTEGRATION_TO_CALLBACK,
# which ms-swift's --report_to passes through; a test checks that against the installed stack).
Tracker = Literal["tensorboard", "swanlab", "wandb", "mlflow", "none"]


class Tracking(_Table):
    backend: list[Tracker] | Tracker = Field(default_factory=lambda: ["tensorboard"], description=(
        "Trackers (--report_to): one name or a list of tensorboard, swanlab, wandb, mlflow; \"none\" for none. "
        "Default tensorboard (ms-swift then writes runs/ and the loss plots in images/). Tracking runs on rank 0."))
    project: str | None = Field(None, description="swanlab project / WANDB_PROJECT / MLFLOW_EXPERIMENT_NAME.")
    workspace: str | None = Field(None, description="swanlab workspace / WANDB_ENTITY.")
    exp_name: str | None = Field(None, description="swanlab experiment name / WANDB_NAME / MLFLOW_RUN_NAME.")
    mode: Literal["cloud", "local", "offline", "disabled"] | None = Field(None, description=(
        "swanlab and wandb: offline (or local) logs on disk only, no account needed; cloud uploads."))

    @field_validator("backend", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _settings_need_a_tracker(self) -> Tracking:
        names = self.backend
        if "none" in names and len(names) > 1:
            raise ValueError("\"none\" cannot be combined with other trackers")
        if len(set(names)) != len(names):
            raise ValueError(f"a tracker is listed twice: {names}")
        online = {"swanlab", "wandb", "mlflow"} & set(names)
        if not online and any(v is not None for v in (self.project, self.workspace, self.exp_name, self.mode)):
            raise ValueError("project/workspace/exp_name/mode configure swanlab, wandb or mlflow: add one to "
                             "tracking.backend")
        if self.mode is not None and not {"swanlab", "wandb"} & set(names):
            raise ValueError("tracking.mode applies to swanlab and wandb only")
        if self.mode == "disabled" and "swanlab" in names:
            raise ValueError("ms-swift's swanlab has no disabled mode: remove swanlab from tracking.backend instead")
        return self

    @property
    def report_to(self) -> list[str]:
        return list(self.backend)


class Resources(_Table):
    device: Literal["cuda", "cpu"] = "cuda"
    nodes: int = Field(1, ge=1)
    gpus_per_node: int = Field(1, ge=0, description="Processes (one per GPU) per node: NPROC_PER_NODE.")
    cuda_visible_devices: str | None = Field(None, description="e.g. \"0,1,2,3,4,5,6,7\" (default: 0..gpus_per_node-1)")
    master_addr: str | None = Field(None, description="Rendezvous host for multi-node (node 0).")
    master_port: int = Field(29500, ge=1, le=65535)
    shared_storage: bool | None = Field(None, description="Declare that output.dir is shared by all nodes.")
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, description="Extra environment variables (no secrets).")
    gpu: str | None = Field(None, description="GPU model for `swiftctl plan` / the fit check, e.g. \"RTX 5090\".")

    @field_validator("cuda_visible_devices")
    @classmethod
    def _devices(cls, value: str | None) -> str | None:
        if value is not None and not all(p.strip().isdigit() for p in value.split(",")):
            raise ValueError(f"not a comma-separated list of GPU indices: {value!r}")
        return value

    @model_validator(mode="after")
    def _gpus_match_device(self) -> Resources:
        if self.device == "cuda" and self.gpus_per_node == 0:
            raise ValueError("a GPU job needs gpus_per_node >= 1 (or declare a CPU job: resources.device = \"cpu\")")
        if self.device == "cpu" and (self.gpus_per_node or self.cuda_visible_devices):
            raise ValueError("a CPU job uses no GPUs: set gpus_per_node = 0 and remove cuda_visible_devices")
        return self

    @property
    def visible(self) -> list[int]:
        if self.cuda_visible_devices:
            return [int(p) for p in self.cuda_visible_devices.split(",")]
        return list(range(self.gpus_per_node))


class Job(_Table):
    swift_version: str = Field("4", pattern=r"^[34](\.\d+){0,2}$", description="ms-swift version targeted (3 or 4[.x]).")
    stage: Stage = Field("sft", description=f"Training stage: {', '.join(STAGES)} (all but sft run `swift rlhf`).")
    model: Model
    data: Data
    tuner: Tuner = Field(default_factory=Tuner)
    train: Train = Field(default_factory=Train)
    output: Output
    tracking: Tracking = Field(default_factory=Tracking)
    resources: Resources = Field(default_factory=Resources)
    rlhf: Rlhf | None = Field(None, description="Preference/RL stage settings (stage != \"sft\").")
    extra_args: list[str] = Field(default_factory=list, description="Extra `swift sft` arguments, e.g. [\"--seed\", \"7\"].")

    @field_validator("extra_args")
    @classmethod
    def _no_secret_args(cls, value: list[str]) -> list[str]:
        from swiftctl.jobs.envrules import value_problems

        problems = value_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def major(self) -> int:
        return int(self.swift_version.split(".")[0])


def json_schema() -> dict:
    schema = Job.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "swiftctl job"
    return schema
