"""Configuration: declared schema data, safe loading with positions, building the typed Config, rules."""
