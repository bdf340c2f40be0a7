"""nvidia-smi transcripts for the GPU probe.

No GPU is on the machines these tests run on, so these are RECONSTRUCTED from the real format of
`nvidia-smi --query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv,noheader,nounits`
(comma + space separated, MiB without unit, one line per GPU), with the names, memory sizes and compute
capabilities those cards report (RTX 5090: 32607 MiB, sm_120; H100 SXM: 81559 MiB, sm_90).
"""

RTX5090_X8 = "".join(f"{i}, NVIDIA GeForce RTX 5090, 32607, 575.57.08, 12.0\n" for i in range(8))
H100_X8 = "".join(f"{i}, NVIDIA H100 80GB HBM3, 81559, 550.90.07, 9.0\n" for i in range(8))
# Drivers older than 510 do not know compute_cap and nvidia-smi prints this instead of CSV (exit 2).
OLD_DRIVER = 'Field "compute_cap" is not a valid field to query.\n\n'
NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
             "Make sure that the latest NVIDIA driver is installed and running.\n\n")
