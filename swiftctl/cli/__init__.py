"""Typer layer: parse options, call one domain function, render the result. Nothing else lives here."""
