"""The one door to Jinja: the tool's templates/, sandboxed, strict and byte-stable.

A render error becomes a StackError naming the template and its line; a value that would
add lines to the output (a line break, a control character) never reaches a file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.store import paths

HEADER = "Generated from templates/{template} by `doit render`. Do not edit."

# Outputs are path -> thunk: knowing what a task writes (its doit targets) must not
# cost rendering every template each time doit loads.
Outputs = dict[str, Callable[[], str]]

_BREAK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\n(?!\s*$)")


class TemplateValueError(Exception):
    """A value that must not be emitted into a template (see `environment`'s finalize)."""


def header_text(template: str) -> str:
    return HEADER.format(template=template)


@functools.cache
def environment(templates: Path) -> Any:
    """The Jinja environment of one templates folder (made once: most doit runs never render)."""
    import jinja2
    import jinja2.sandbox
    from markupsafe import Markup

    def finalize(value: Any) -> Any:
        """Every `{{ value }}` passes here. Strings were typed at the config boundary; this
        is the last guard: a line break in a value would add keys to the rendered YAML."""
        if isinstance(value, Markup):  # macro output, tojson: already well-formed text
            return value
        text = str(value)
        if _BREAK.search(text):
            raise TemplateValueError(f"value {text[:60]!r} contains a line break or control character")
        # Markup: autoescape (on, so macros return Markup) must not HTML-escape plain values.
        return Markup(text)

    # Sandboxed: a template may read the config, never reach Python internals.
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # gremlin: pardon[equivalent] render_now strips the trailing newlines and adds exactly one
        keep_trailing_newline=True,
        autoescape=True,
        finalize=finalize,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True}
    return env


def texts(outputs: Outputs) -> dict[str, str]:
    """Render every output (all of them before anything is written)."""
    return {path: produce() for path, produce in outputs.items()}


def render_later(template: str, **context: Any) -> Callable[[], str]:
    """One output, rendered when it is asked for (see `Outputs`)."""
    return functools.partial(render_now, template, context)


def render_now(template: str, context: dict[str, Any]) -> str:
    """The text of one template (path below templates/) with this context."""
    import jinja2

    # The tool's templates (tasks/store/paths.py: a checkout of the tool renders its own).
    folder = tool_folder(paths.templates(), "templates are")
    try:
        text: str = (
            environment(folder)
            .get_template(template)
            .render(header="# " + header_text(template), header_text=header_text(template), **context)
        )
    except jinja2.TemplateNotFound as exc:
        raise StackError(
            f"templates/{exc.name}: template not found (needed for {template})",
            fix="restore it (`git checkout -- templates/`) or fix the include",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise StackError(
            f"templates/{exc.name or template}, line {exc.lineno}: {exc.message}",
            fix="fix the template syntax at that line",
        ) from None
    except (jinja2.TemplateError, TemplateValueError) as exc:
        name, line = _template_line(exc, template)
        raise StackError(
            f"templates/{name}, line {line}: {exc}",
            fix="fix the template, or the value in environments/ that it prints",
        ) from None
    # One trailing newline, never blank lines at the end: stable diffs.
    return text.rstrip("\n") + "\n"


def tool_folder(folder: Path, what: str) -> Path:
    """`folder` of the installed tool (templates/, a Terraform module), or how to install it."""
    if not folder.is_dir():  # a non-editable install copies the package, not its templates or modules
        raise StackError(
            f"stackbuild's {what} not where the installed tool keeps them ({folder})",
            fix="install stackbuild from its checkout as an editable package: "
            "pip install -e <stackbuild checkout>",
        )
    return folder


def _template_line(exc: BaseException, template: str) -> tuple[str, int | str]:
    """Where a render error happened: Jinja maps template lines into its tracebacks."""
    found: tuple[str, int | str] = (template, "?")
    tb = exc.__traceback__
    root = str(paths.templates()) + "/"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root):
            found = (filename.removeprefix(root), tb.tb_lineno)
        tb = tb.tb_next
    return found
