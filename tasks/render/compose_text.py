"""Our values as Compose reads them: Compose interpolates `$` (`$VAR`, `${VAR}`) in every
value of a Compose file, so a literal dollar is written `$$`.

Every value of ours that lands in a Compose file goes through `literal` or `literals` (a database's
command, health check and environment; a service's command, environment and health check),
so `redis-cli -a "$REDISCLI_AUTH"` reaches the container as written, for its shell to
expand. Only the references the tool means Compose to fill in (`${SECRET:?...}`,
`${NAME_IMAGE:-...}`) are written unescaped, by the renderer itself.
"""

from __future__ import annotations

from collections.abc import Iterable


def literal(text: str) -> str:
    """`text` with every `$` doubled: Compose reads it back as written."""
    return text.replace("$", "$$")


def literals(values: Iterable[str]) -> list[str]:
    """Each string of a list (a command, a health check) through `literal`."""
    return [literal(str(value)) for value in values]
