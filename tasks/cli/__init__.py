"""The command line: argv, resolving the run, guards, start-up, exit codes, doit plugins."""
