"""What several task families build alike: the run, the task table, placeholders, image tasks."""
