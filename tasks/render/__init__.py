"""Pure rendering: Config -> {path: text}."""
