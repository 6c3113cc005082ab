"""What several task families build alike: the run, the task registry and options, placeholders,
image tasks."""
