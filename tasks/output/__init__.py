"""What the user sees: collapsed tool output, colours, printed lines."""
