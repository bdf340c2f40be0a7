"""swiftctl: reliable supervised fine-tuning of Qwen-family models with ms-swift."""

__version__ = "0.1.0"
