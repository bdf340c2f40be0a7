"""`swiftctl export`: merge a run into a self-contained model that keeps its persona anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.infer import CheckpointOpt, ModelOpt, RunArg, SystemOpt
from swiftctl.cli.options import JsonOpt


def export(run: RunArg = None,
           out: Annotated[Path, typer.Option("--out", help="New directory for the model (must not exist).")] = ...,
           quant: Annotated[str | None, typer.Option("--quant", help="awq, gptq, bnb or fp8 (needs a CUDA GPU).")] = None,
           chat_template: Annotated[Path | None, typer.Option("--chat-template",
                                                              help="Your own Jinja chat template to start from.")] = None,
           model: ModelOpt = None, system: SystemOpt = None, checkpoint: CheckpointOpt = "auto",
           json_: JsonOpt = False) -> None:
    """Merge the LoRA (swift export --merge_lora) and write a model that renders its persona with no system message.

    DIR gets the merged weights, chat_template.jinja and tokenizer_config.json with the training system prompt as
    the default system message (transformers, vLLM, any OpenAI client), generation_config.json, an Ollama
    Modelfile (SYSTEM + TEMPLATE) and a model card (persona, base model, data hashes, versions). A full
    fine-tune is copied instead of merged. Built beside DIR and renamed into place; an existing DIR is refused.

    Examples:

      swiftctl export --out exported/muxue                 (the newest run)

      swiftctl export demo-runs/demo --out demo-runs/export

      python -m vllm.entrypoints.openai.api_server --model demo-runs/export

      ollama create muxue -f demo-runs/export/Modelfile
    """
    from swiftctl.infer import api
    from swiftctl.infer.export import check_quant, export_model
    from swiftctl.ui import infer_view

    check_quant(quant)  # before anything is resolved or started
    notes: list[str] = []
    target = api.target(run, model=model, adapters=None, system=system, which=checkpoint, notes=notes)
    if not json_:
        infer_view.show_target(target, notes)
        infer_view.exporting(quant)
    result = export_model(target, out, quant=quant, chat_template=chat_template)
    infer_view.show_export(result, as_json=json_)


def register(app: typer.Typer) -> None:
    """Attach this command to the root app."""
    app.command("export")(export)
