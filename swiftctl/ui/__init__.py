"""The only package that uses rich: consoles, tables, progress bars. --json dumps the same result objects."""
