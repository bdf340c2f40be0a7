"""`swiftctl plan`: per-GPU memory, fit, time and recommendations for a job, from config.json alone (no torch).

arch (config → shapes and parameter counts) · setup (job + options → the training setup) · states (weights,
gradients, optimizer under DDP/ZeRO/FSDP) · activations (saved tensors per layer, logits/loss) · timing · gpus
(built-in card table, doctor's probe) · recommend · build (orchestration) · report (the --json models).
The derivations are in docs/plan.md.
"""
