"""Environment checks: probe (versions, GPUs, system), pin profiles, rules, and the doctor report."""
