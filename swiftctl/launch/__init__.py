"""The only package that starts processes: argv + env plans, the runner (signals, logs, exit codes), manifests."""
