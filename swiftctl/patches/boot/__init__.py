"""Static bootstrap directory put first on PYTHONPATH of patched child processes (see sitecustomize.py)."""
