"""Deploy targets: one protocol (`base`), one rollout over it (`rollout`), one module per target
(`compose`, `kubernetes`) and the registry that maps an environment to its target (`registry`).

As pre-commit keeps its `Language` protocol in `lang_base.py` and the implementations in one
dict (`all_languages.py`), the protocol and the registry live apart: the targets import the
protocol, the registry imports the targets, and nothing imports the registry back.
"""
