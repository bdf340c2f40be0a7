"""Rendering for `swiftctl plan`: the memory breakdown, the verdict, time, and ranked recommendations."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from swiftctl.ui.console import out


def render_plan(r: Any) -> None:
    c, m, t = out(), r.memory, r.time
    c.print(f"[bold]{r.job}[/]: {r.model}")
    c.print(f"setup: {escape(m.setup)}")
    c.print(f"micro-batch: {m.tokens_per_micro_batch:,} tokens (sequences up to {m.sequence_length:,})")
    table = Table("term", "GiB", "how", box=None, pad_edge=False)
    for name, term in m.terms.items():
        table.add_row(name, f"{term.gib:.2f}", escape(term.formula))
    table.add_row("[bold]peak per GPU[/]", f"[bold]{m.per_gpu_peak_gib:.2f}[/]", "")
    c.print(table)
    if m.expected_peak_gib is not None:
        c.print(f"with the data's real lengths: {m.expected_peak_gib:.2f} GiB "
                f"(largest micro-batch {m.expected_tokens_per_micro_batch:,} tokens)")
    if m.fits is None:
        c.print("fit: [yellow]unknown[/] (no GPU memory given)")
    else:
        verdict = "[green]fits[/]" if m.fits else "[red]does NOT fit[/]"
        c.print(f"fit: {verdict}: {m.per_gpu_peak_gib:.2f} of {m.gpu_mem_gib:g} GiB on {m.gpu}")
    steps = f"{t.steps_per_epoch:,} steps/epoch, {t.total_steps:,} total" if t.total_steps else "steps: need data stats"
    wall = f"~{t.wall_hours:.2f} h ({t.step_seconds:.3g} s/step)" if t.wall_hours is not None else (
        f"~{t.step_seconds:.2f} s/step" if t.step_seconds is not None else "wall time: unknown")
    c.print(f"time: {t.tokens_per_step:,} tokens/step, {steps}, {t.flops_per_token:.3g} FLOPs/token, {wall} "
            f"({t.assumption})")
    if t.padding_waste_pct is not None:
        c.print(f"padding waste: {t.padding_waste_pct:.1f}% of computed tokens padded batches, "
                f"{t.padding_waste_pct_padding_free:.1f}% with padding_free/packing ({t.data_rows:,} rows)")
    if r.recommendations:
        rec = Table("#", "change", "peak GiB", "saves", "fits", "effect", box=None, pad_edge=False)
        for i, x in enumerate(r.recommendations, 1):
            fits = "-" if x.fits is None else ("yes" if x.fits else "no")
            rec.add_row(str(i), escape(x.change), f"{x.per_gpu_peak_gib:.2f}", f"{x.saves_gib:.2f}", fits, escape(x.effect))
        c.print("[bold]recommendations[/] (cheapest first):")
        c.print(rec)
    for note in r.notes:
        c.print(f"note: {escape(note)}")
