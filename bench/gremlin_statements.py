"""pytest-gremlins plugin: the "statement" operator (a dropped call, a dropped raise).

pytest-gremlins mutates expressions (comparisons, boolean logic, arithmetic, boundaries) and
return values, but never removes a statement. The bugs that matter most in a build system are
often exactly that: a `kubectl delete` that is not run, a `raise` that no longer stops a failed
step. This plugin adds those mutants through the tool's own extension points (its operator
registry and its statement-switching builder), so they are selected, run, cached and reported
like the built-in ones:

- an expression statement that is a call (`run(...)`, `path.unlink()`, `await x()`) becomes `pass`;
- a `raise` becomes `pass`.

It also leaves `flush=` arguments alone: flipping one only changes when a line appears.

Loaded by bench/mutation.py with `-p bench.gremlin_statements`. Only the controlling process
instruments sources (the workers receive the instrumented trees), so registering here suffices.
"""

from __future__ import annotations

import ast
import copy
from typing import cast

from pytest_gremlins.instrumentation import transformer as gremlin_transformer


class StatementOperator:
    """Drop a call statement or a raise (replace it with `pass`)."""

    @property
    def name(self) -> str:
        return "statement"

    @property
    def description(self) -> str:
        return "Drop a call statement or a raise"

    def can_mutate(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Raise):
            return True
        return isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))

    def mutate(self, node: ast.AST) -> list[ast.AST]:
        if not self.can_mutate(node):
            return []
        dropped = ast.Pass()
        ast.copy_location(dropped, node)
        return [dropped]


def _switch_statement(self: gremlin_transformer.MutationSwitchingTransformer, node: ast.stmt) -> ast.stmt:
    """Instrument the statement's own expressions, then switch the statement itself.

    The dropped variant is `pass`, so (as for the tool's expression switches) the variants never
    contain the nested switches; only the original branch keeps them.
    """
    pristine = copy.deepcopy(node)
    self.generic_visit(node)
    gremlins = self._create_gremlins_for_node(pristine)
    if not gremlins:
        return node
    self.gremlins.extend(gremlins)
    # cast: typed when pytest-gremlins is installed (the mutation extra), Any without it (CI's mypy).
    return cast(ast.stmt, gremlin_transformer.build_switching_statement(node, gremlins))


def _keyword(self: gremlin_transformer.MutationSwitchingTransformer, node: ast.keyword) -> ast.keyword:
    """`print(..., flush=True)`: flipping `flush` only changes when a line appears, never what
    the program does, so it is not a semantic mutant (docs/decisions.md, issue 15)."""
    if node.arg == "flush":
        return node
    return cast(ast.keyword, self.generic_visit(node))


gremlin_transformer.get_default_registry().register(StatementOperator)
# ast.NodeTransformer dispatches on visit_<NodeType>; the tool defines neither of these.
# (setattr: the visitor's declared signature is per node type, which mypy would refuse here.)
setattr(gremlin_transformer.MutationSwitchingTransformer, "visit_Expr", _switch_statement)  # noqa: B010
setattr(gremlin_transformer.MutationSwitchingTransformer, "visit_Raise", _switch_statement)  # noqa: B010
setattr(gremlin_transformer.MutationSwitchingTransformer, "visit_keyword", _keyword)  # noqa: B010
