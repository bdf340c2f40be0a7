"""Bundled `swift sft` argument lists (one name a line) for when ms-swift is not installed."""
