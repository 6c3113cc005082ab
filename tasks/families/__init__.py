"""Task families (one module per doit family): doit task dicts only; they call operations."""
