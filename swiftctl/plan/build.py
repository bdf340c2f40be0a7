"""`swiftctl plan`: job (+ options) → PlanReport. Reads files only; no torch, no processes but doctor's GPU probe."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.errors import UsageError
from swiftctl.jobs.load import LoadedJob, is_local_dataset, is_local_model
from swiftctl.plan import gpus as gputable
from swiftctl.plan.arch import Arch, read_config
from swiftctl.plan.lengths import token_lengths
from swiftctl.plan.memory import breakdown, expected_tokens, worst_tokens
from swiftctl.plan.recommend import recommend
from swiftctl.plan.report import Memory, PlanReport, Term, Time
from swiftctl.plan.setup import Setup, from_job
from swiftctl.plan.timing import timing


@dataclass
class PlanOptions:
    gpu_mem: float | None = None
    gpus: int | None = None
    gpu: str | None = None
    config: Path | None = None
    data: list[Path] = field(default_factory=list)
    tokenizer: Path | None = None
    probe: bool = True
    use_data: bool = True       # count the training files' token lengths (needs a tokenizer.json)


def builtin_config(model: str) -> Path | None:
    """swiftctl's copy of a well-known model's config.json (public values), by the model dir's or hub id's last part."""
    from swiftctl.resources import resource_dir

    path = resource_dir("model_configs") / f"{model.rstrip('/').rsplit('/', 1)[-1].lower()}.json"
    return path if path.is_file() else None


def resolve_arch(lj: LoadedJob, config: Path | None, notes: list[str] | None = None) -> tuple[Arch, Path]:
    """The architecture from --config, the model dir's config.json, or (when neither is here) a built-in copy."""
    if config is not None:
        return read_config(config), Path(config)
    m = lj.job.model.path
    path = lj.local(m) if is_local_model(m) else None
    if path is not None and (path / "config.json").is_file():
        return read_config(path), path / "config.json"
    builtin = builtin_config(m)
    if builtin is not None:
        if notes is not None:
            notes.append(f"no config.json at {path or m}: using swiftctl's built-in config for {builtin.stem} "
                         "(public values; pass --config to use your own)")
        return read_config(builtin), builtin
    if path is None:
        raise UsageError(f"model.path is a hub id ({m}): the plan needs its config.json",
                         location=lj.where("model.path"),
                         hint=f"download only the config (e.g. `huggingface-cli download {m} config.json --local-dir "
                              f"cfg/`, or modelscope) and pass --config cfg/config.json")
    raise UsageError(f"no config.json in {path}", location=lj.where("model.path"),
                     hint="pass --config PATH/config.json (a copy of the model's config)")


def resolve_gpu(lj: LoadedJob, o: PlanOptions) -> tuple[float | None, float | None, str | None, int | None]:
    """(memory GiB, peak bf16 TFLOPS, description, probed GPU count) from --gpu-mem / --gpu / resources.gpu / probe."""
    name = o.gpu or lj.job.resources.gpu
    spec = gputable.find(name, "--gpu" if o.gpu else lj.where("resources.gpu")) if name else None
    if o.gpu_mem is not None:
        return o.gpu_mem, spec.bf16_tflops if spec else None, f"--gpu-mem {o.gpu_mem:g}", None
    if spec is not None:
        origin = "--gpu" if o.gpu else "resources.gpu"
        return spec.memory_gib, spec.bf16_tflops, f"{spec.name} ({origin}, built-in table)", None
    found = gputable.probed() if o.probe else None
    if found:
        g, count = found
        return g.memory_gib, g.bf16_tflops, f"{g.name} × {count} (this machine, nvidia-smi)", count
    return None, None, None, None


def _tokenizer_dir(lj: LoadedJob, o: PlanOptions, config_path: Path) -> Path | None:
    candidates = [o.tokenizer] if o.tokenizer else []
    if is_local_model(lj.job.model.path):
        candidates.append(lj.local(lj.job.model.path))
    candidates.append(config_path.parent)
    return next((c for c in candidates if c and (Path(c) / "tokenizer.json").is_file()), None)


def data_lengths(lj: LoadedJob, o: PlanOptions, config_path: Path, notes: list[str]) -> list[int] | None:
    files = list(o.data) or [lj.local(e.split("#", 1)[0]) for e in lj.job.data.train if is_local_dataset(e)]
    files = [f for f in files if Path(f).is_file()]
    if not files:
        notes.append("no local training files found: sizes are for max_length batches only (pass --data FILE)")
        return None
    tok = _tokenizer_dir(lj, o, config_path)
    if tok is None:
        notes.append("data statistics need a tokenizer.json (model dir, --config's dir or --tokenizer DIR)")
        return None
    d = lj.job.data
    template = lj.job.model.template
    lengths = token_lengths(files, tok, template=template, system=d.system)
    return lengths or None


def make_plan(lj: LoadedJob, o: PlanOptions) -> PlanReport:
    notes: list[str] = []
    arch, config_path = resolve_arch(lj, o.config, notes)
    gpu_mem, tflops, gpu_desc, probed_count = resolve_gpu(lj, o)
    s: Setup = from_job(lj.job, arch, gpus=o.gpus)
    from swiftctl.jobs.lint import rule_gpus

    notes += [f"{i.severity}: {i.location}: {i.message} (fix: {i.hint})" for i in rule_gpus(lj)]
    if probed_count and s.gpus > probed_count * lj.job.resources.nodes:
        notes.append(f"the job uses {s.gpus} GPUs but this machine has {probed_count}")
    lengths = data_lengths(lj, o, config_path, notes) if o.use_data else None
    tokens, seq = worst_tokens(s)
    worst = breakdown(arch, s, tokens, seq)

    def fits(peak: float) -> bool | None:
        return None if gpu_mem is None else peak <= gpu_mem

    expected = None
    if lengths:
        et, es = expected_tokens(s, lengths)
        expected = (breakdown(arch, s, et, es), et)
    memory = Memory(
        per_gpu_peak_gib=round(worst.peak, 2),
        terms={k: Term(gib=v, formula=worst.formulas[k]) for k, v in worst.terms.items()},
        fits=fits(worst.peak), gpu_mem_gib=gpu_mem, gpu=gpu_desc, tokens_per_micro_batch=tokens, sequence_length=seq,
        expected_peak_gib=round(expected[0].peak, 2) if expected else None,
        expected_tokens_per_micro_batch=expected[1] if expected else None,
        setup=(f"{s.tuner}{f' ({s.quant_bits}-bit base)' if s.quant_bits else ''}, {s.sharding} over {s.gpus} GPU(s), "
               f"{s.dtype}, batch {s.batch} × accumulation {s.grad_accum}, max_length {s.max_length}"
               f"{', packing' if s.packing else ', padding_free' if s.padding_free else ''}, attention {s.attn}, "
               f"checkpointing {'on' if s.checkpointing else 'off'}, liger {'on' if s.liger else 'off'}"))
    if gpu_mem is None:
        notes.append("GPU memory unknown: pass --gpu-mem GIB or --gpu NAME (or set resources.gpu) for a verdict")
    t = lj.job.train
    tm = timing(arch, s, lengths=lengths, epochs=t.num_train_epochs, max_steps=t.max_steps, tflops=tflops)
    time = Time(tokens_per_step=tm.tokens_per_step, steps_per_epoch=tm.steps_per_epoch, total_steps=tm.total_steps,
                flops_per_token=tm.flops_per_token, wall_hours=tm.wall_hours,
                step_seconds=tm.step_seconds, assumption=tm.assumption,
                padding_waste_pct=tm.waste, padding_waste_pct_padding_free=tm.waste_free, data_rows=tm.rows)
    recs = recommend(arch, s, gpu_mem, lengths, fits)
    return PlanReport(job=str(lj.path), model=f"{arch.model_type} {arch.total_params / 1e9:.2f}B params "
                      f"(config {config_path})", memory=memory, time=time, recommendations=recs, notes=notes)
