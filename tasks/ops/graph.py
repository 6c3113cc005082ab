"""The task graph of one environment as SVG, stale tasks highlighted (`doit graph`, the status page).

The tasks, their dependencies and whether each would run come from doit itself
(`programs.doit_graph`: `doit taskgraph`, the same check as `doit list --status`); this module
only decides what belongs to one environment and how it looks, and Graphviz lays it out
(`programs.graphviz`). Left to right, in the direction work flows (a dependency points at
what needs it); the subtasks of one task (`images:*`, `render:*`) share a box.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tasks.errors import StackError
from tasks.output import console
from tasks.programs import doit_graph, graphviz
from tasks.programs.doit_graph import Node
from tasks.store import state

# status -> Graphviz node attributes. Stale is the one loud colour; "always" (a command such as
# `compose_ps`, `uptodate: [False]`) is not stale, only never skipped, so it stays quiet.
STYLES = {
    "run": 'style="filled,bold" fillcolor="#ffb74d" color="#e65100"',
    "error": 'style="filled,bold" fillcolor="#ef9a9a" color="#b71c1c"',
    "up-to-date": 'style="filled" fillcolor="#c8e6c9" color="#2e7d32"',
    "always": 'style="dashed" color="#757575"',
    "ignore": 'style="filled" fillcolor="#eeeeee" color="#9e9e9e"',
}
STALE = ("run", "error")
LEGEND = (
    "orange: stale (doit would run it now)   red: doit cannot check it (a file it reads is missing)   "
    "green: up to date   dashed: runs every time"
)
CLUSTER = 'style=rounded; color="#bdbdbd";'
OWN_EDGE = " [style=dotted arrowhead=none]"
# A group's status is the most urgent of its dependencies', in this order.
URGENCY = ("error", "run", "always", "up-to-date", "ignore")


def of_env(nodes: Iterable[Node], env: str) -> list[Node]:
    """The tasks of one environment: all but the subtasks made for another environment
    (`deploy:prod` when env is dev), and the groups left with none of their own; dependencies
    on what was dropped are dropped too."""
    nodes = list(nodes)
    others = {n.name for n in nodes if n.env is not None and n.env != env}
    others |= {n.name for n in nodes if n.group and n.deps and set(n.deps) <= others}
    return [
        Node(n.name, n.doc, tuple(d for d in n.deps if d not in others), n.status, n.why, n.group, n.env)
        for n in nodes
        if n.name not in others
    ]


def statuses(nodes: list[Node]) -> dict[str, str]:
    """Each task's status; a group (no actions of its own) takes its dependencies' most urgent
    one, since what it does is run them: it is stale exactly when one of them is."""
    by_name = {n.name: n for n in nodes}
    done: dict[str, str] = {}

    def status(name: str, seen: frozenset[str]) -> str:
        if name not in done:
            node = by_name[name]
            deps = [d for d in node.deps if d in by_name and d not in seen]
            if not node.group or not deps:
                done[name] = node.status
            else:
                found = {status(d, seen | {name}) for d in deps}
                done[name] = next(s for s in URGENCY if s in found)
        return done[name]

    return {n.name: status(n.name, frozenset()) for n in nodes}


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_source(nodes: list[Node], env: str) -> str:
    """The DOT text of these tasks: one box per task with subtasks, one edge per dependency."""
    status = statuses(nodes)
    families: dict[str, list[Node]] = {}
    for node in nodes:
        families.setdefault(node.name.partition(":")[0], []).append(node)
    lines = [
        "digraph tasks {",
        "  rankdir=LR; newrank=true; ranksep=0.6; nodesep=0.15;",
        f"  label={quote(f'doit tasks of environment {env}. ' + LEGEND)}; labelloc=t; fontname=Helvetica;",
        "  node [shape=box fontname=Helvetica fontsize=10 height=0.3 style=filled fillcolor=white];",
        '  edge [color="#9e9e9e" arrowsize=0.6];',
    ]
    for index, (base, members) in enumerate(families.items()):
        boxed = len(members) > 1
        if boxed:
            lines.append(f"  subgraph cluster_{index} {{ label={quote(base)}; {CLUSTER}")
        for node in members:
            lines.append("  " + node_line(node, status[node.name], short=boxed))
        if boxed:
            lines.append("  }")
    for node in nodes:
        for dep in node.deps:
            own = dep.partition(":")[0] == node.name  # a group's own subtask: the box says it
            lines.append(f"  {quote(dep)} -> {quote(node.name)}" + (OWN_EDGE if own else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def node_line(node: Node, status: str, *, short: bool) -> str:
    """One task: its id is its full name (the SVG's <title>), its label short inside its box,
    its tooltip what it does and why it would run, its class its status."""
    label = node.name.partition(":")[2] or node.name if short else node.name
    tip = node.doc + (f"\n{status}: {node.why}" if node.why else f"\n{status}")
    shape = " shape=folder" if node.group else ""
    return (
        f"{quote(node.name)} [label={quote(label)} tooltip={quote(tip)} class={quote(status)}"
        f"{shape} {STYLES[status]}];"
    )


def svg(env: str, *, root: Path | None = None) -> str:
    """The SVG text of environment `env`'s task graph, stale tasks highlighted; StackError
    (one sentence) when Graphviz is missing or doit cannot list the tasks."""
    graphviz.require()  # before the task list, which takes seconds on a large stack
    nodes = of_env(doit_graph.read(env, root=root or Path.cwd()), env)
    if not nodes:
        raise StackError(f"doit lists no task for environment {env}.")
    return graphviz.svg(dot_source(nodes, env))


def writable(path: Path) -> None:
    """One sentence naming the path and the fix when `path` cannot be a file: a folder there,
    or a file where one of its folders would have to be (the OS would only say "File exists")."""
    if path.is_dir():
        example = path / "graph.svg"
        raise StackError(
            f"cannot write the task graph to {path}: it is a folder; name a file, e.g. out={example}."
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StackError(
                    f"cannot write the task graph to {path}: {parent} is a file, not a folder; "
                    f"choose an out= path outside it, or move {parent} away."
                )
            return


def write(env: str, out: str = "") -> Path:
    """Write the graph of the project in the current folder to `out` (default
    .build/<env>/graph.svg) and say where it went."""
    path = Path(out) if out else state.graph_svg(env)
    writable(path)  # before the drawing, which takes seconds
    text = svg(env)
    try:
        state.write_atomic(path, text)
    except OSError as exc:
        raise StackError(f"cannot write the task graph to {path}: {exc.strerror or exc}.") from None
    console.say(f"task graph of {env}: {path}")
    return path
