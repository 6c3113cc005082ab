"""Program adapters (layer 3): one thin module per external program.

Each builds the program's command lines, runs them through the one door
(tasks/programs/tools.py `run`) and returns typed values (dataclasses, parsed JSON), so no
caller parses program output itself. Adapters decide nothing about what to run
(docs/architecture.md).
"""
