"""Pure rendering: Config -> {path: text}, through Jinja templates.

Nothing here touches the network or a daemon. Output is byte-stable: every mapping
is sorted or in file order, and nothing time- or build-dependent is rendered (image
tags are injected at deploy time). Writing is separate and atomic (see `write_all`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tasks.config import cloud_db
from tasks.errors import StackError
from tasks.model import Config, Database, Service
from tasks.render import healthcheck, netpol
from tasks.store import images, paths, state

HEADER = "Generated from templates/{template} by `doit render`. Do not edit."


@functools.cache
def _jinja(templates: Path) -> Any:
    # Only when something renders: most doit runs never do.
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
        # gremlin: pardon[equivalent] _render_now strips the trailing newlines and adds exactly one
        keep_trailing_newline=True,
        autoescape=True,
        finalize=finalize,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True}
    return env


_BREAK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\n(?!\s*$)")


class TemplateValueError(Exception):
    """A value that must not be emitted into a template (see `_jinja.finalize`)."""


def header_text(template: str) -> str:
    return HEADER.format(template=template)


# Outputs are path -> thunk: knowing what a task writes (its doit targets) must not
# cost rendering every template each time doit loads.
Outputs = dict[str, Callable[[], str]]


def texts(outputs: Outputs) -> dict[str, str]:
    """Render every output (all of them before anything is written)."""
    return {path: produce() for path, produce in outputs.items()}


def _render(template: str, **context: Any) -> Callable[[], str]:
    return functools.partial(_render_now, template, context)


def _render_now(template: str, context: dict[str, Any]) -> str:
    import jinja2

    # The tool's templates (tasks/store/paths.py: a checkout of the tool renders its own).
    folder = _tool_folder(paths.templates(), "templates are")
    try:
        text: str = (
            _jinja(folder)
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


def _tool_folder(folder: Path, what: str) -> Path:
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


def cpus(quantity: str) -> str:
    """Kubernetes CPU quantity -> Compose `cpus` ('500m' -> '0.5')."""
    value = Decimal(quantity[:-1]) / 1000 if quantity.endswith("m") else Decimal(quantity)
    return format(value.normalize(), "f")


def memory(quantity: str) -> str:
    """Kubernetes memory quantity -> Compose byte value ('256Mi' -> '256m')."""
    for suffix, unit in (("Ki", "k"), ("Mi", "m"), ("Gi", "g"), ("K", "k"), ("M", "m"), ("G", "g")):
        if quantity.endswith(suffix):
            return quantity[: -len(suffix)] + unit
    return quantity


def endpoints(cfg: Config) -> dict[str, str]:
    return {db.env_var: db.endpoint for db in cfg.databases.values() if db.placement != "disabled"}


def config_data(cfg: Config) -> dict[str, Any]:
    return {**cfg.config, **endpoints(cfg)}


# --- Kubernetes -------------------------------------------------------------------


def cluster_capable(cfg: Config) -> list[Database]:
    """Databases that may run in a cluster; MongoDB and Redis never have this block."""
    return [db for db in cfg.databases.values() if db.cluster]


def k8s_base(stack: Config) -> Outputs:
    out: Outputs = {
        "namespace.yaml": _render("k8s/base/namespace.yaml.j2", cfg=stack),
        "configmap.yaml": _render("k8s/base/configmap.yaml.j2", cfg=stack, data=config_data(stack)),
    }
    for svc in stack.services.values():
        template = "k8s/base/deployment.yaml.j2" if svc.kind == "deployment" else "k8s/base/job.yaml.j2"
        out[f"{svc.name}.yaml"] = _render(template, cfg=stack, svc=svc)
    for db in cluster_capable(stack):
        out[f"{db.name}.yaml"] = _render("k8s/base/statefulset.yaml.j2", cfg=stack, db=db)
    allowed = [
        (s.name, [p.port for p in s.ports], any(p.publish for p in s.ports))
        for s in stack.deployments()
        if s.ports
    ]
    allowed += [(db.name, [db.port], False) for db in cluster_capable(stack)]
    out["networkpolicy.yaml"] = _render(
        "k8s/base/networkpolicy.yaml.j2", cfg=stack, allowed=allowed, egress=netpol.egress(stack)
    )
    out["kustomization.yaml"] = _render("k8s/base/kustomization.yaml.j2", cfg=stack, resources=sorted(out))
    return {f"k8s/base/{name}": text for name, text in out.items()}


def exposed(cfg: Config) -> list[tuple[Service, Any]]:
    return [(s, p) for s in cfg.deployments() for p in s.ports if p.publish]


def k8s_components(stack: Config) -> Outputs:
    out: Outputs = {}
    for name, files in (
        ("ingress", {"ingress.yaml": "ingress.yaml.j2"}),
        ("hpa", {"hpa.yaml": "hpa.yaml.j2"}),
    ):
        folder = f"k8s/components/{name}"
        for target, template in files.items():
            out[f"{folder}/{target}"] = _render(f"{folder}/{template}", cfg=stack, exposed=exposed(stack))
        out[f"{folder}/kustomization.yaml"] = _render(
            "k8s/components/kustomization.yaml.j2", cfg=stack, resources=sorted(files)
        )
        out[f"{folder}/README.md"] = _render(f"{folder}/README.md.j2", cfg=stack)
    return out


def k8s_overlay(cfg: Config, stack: Config) -> Outputs:
    folder = f"k8s/overlays/{cfg.env}"
    files: Outputs = {
        f"configmap-{cfg.env}.yaml": _render(
            "k8s/overlay/configmap.patch.yaml.j2", cfg=cfg, data=config_data(cfg)
        ),
    }
    for svc in cfg.deployments():
        if svc.replicas != stack.services[svc.name].replicas:
            files[f"scale-{svc.name}.patch.yaml"] = _render(
                "k8s/overlay/scale.patch.yaml.j2", cfg=cfg, svc=svc
            )
    for db in cluster_capable(cfg):
        if db.placement != "cluster":
            objects = [
                ("StatefulSet", "apps/v1", db.name),
                ("Service", "v1", db.name),
                ("NetworkPolicy", "networking.k8s.io/v1", f"allow-{db.name}"),
            ]
            files[f"delete-{db.name}.patch.yaml"] = _render(
                "k8s/overlay/delete.patch.yaml.j2",
                cfg=cfg,
                objects=objects,
                reason=f"{db.name} is {db.placement} in this environment, not in the cluster.",
            )
    for name, svc in stack.services.items():
        if name not in cfg.services:
            kind, api = ("Deployment", "apps/v1") if svc.kind == "deployment" else ("Job", "batch/v1")
            objects = [(kind, api, name)]
            if svc.ports:
                objects += [
                    ("Service", "v1", name),
                    ("NetworkPolicy", "networking.k8s.io/v1", f"allow-{name}"),
                ]
            files[f"delete-{name}.patch.yaml"] = _render(
                "k8s/overlay/delete.patch.yaml.j2",
                cfg=cfg,
                objects=objects,
                reason=f"{name} is disabled in this environment.",
            )
    registry = cfg.cloud.registry if cfg.cloud else ""
    files["kustomization.yaml"] = _render(
        "k8s/overlay/kustomization.yaml.j2",
        cfg=cfg,
        patches=sorted(files),
        registry=registry,
        images=[cfg.image_ref(s) for s in cfg.services],
    )
    return {f"{folder}/{name}": text for name, text in files.items()}


# --- Docker Compose ---------------------------------------------------------------


def compose(cfg: Config) -> Outputs:
    folder = f"compose/{cfg.env}"
    example = f"{folder}/.env.example"

    def secret_ref(secret: str) -> str:
        return f'"${{{secret}:?{secret} is not set; see {example}}}"'

    def db_image(db: Database) -> str:
        return f'"${{{images.image_var(db.name)}:-{db.image}:latest}}"' if db.build else db.image

    def environment(svc: Service) -> dict[str, Any]:
        # Compose interpolates `$` in values; `$$` is its escape for a literal dollar.
        return {k: str(v).replace("$", "$$") for k, v in {**config_data(cfg), **svc.env}.items()}

    common = {"cfg": cfg, "project_name": f"{cfg.project}-{cfg.env}", "secret_ref": secret_ref}
    return {
        f"{folder}/docker-compose-db.yml": _render(
            "compose/docker-compose-db.yml.j2", dbs=cfg.placed("compose"), image=db_image, **common
        ),
        f"{folder}/docker-compose-services.yml": _render(
            "compose/docker-compose-services.yml.j2",
            services=list(cfg.services.values()),
            environment=environment,
            cpus=cpus,
            memory=memory,
            health_test=healthcheck.compose_test_yaml,
            **common,
        ),
        example: _render("compose/env.example.j2", cfg=cfg),
    }


# --- Terraform --------------------------------------------------------------------


def terraform(cfg: Config) -> Outputs:
    assert cfg.cloud is not None
    folder = f"terraform/environments/{cfg.env}"
    repositories = sorted(set(images.pushed(cfg).values()))  # one ECR repository per pushed image
    # The database modules this environment's `cloud.databases` chose; nothing of the others
    # (module, provider, variable, output) is rendered.
    modules = cloud_db.chosen(cfg.cloud, cfg.project)
    inputs = {
        f"{folder}/{name}": _render(
            f"terraform/{name}.j2",
            env=cfg.env,
            project=cfg.project,
            cloud=cfg.cloud,
            repositories=repositories,
            modules=modules,
            protected=cfg.protected,
        )
        for name in ("terraform.tfvars", "backend.hcl")
    }
    # Each environment root is a thin caller of the modules: the same for every environment
    # that chose the same database modules; only its inputs differ.
    roots = {
        f"{folder}/{name}": _render(f"terraform/root/{name}.j2", modules=modules)
        for name in ("main.tf", "outputs.tf", "variables.tf", "versions.tf")
    }
    return {**inputs, **roots}


# The modules every root calls (templates/terraform/root/main.tf.j2); the database modules
# come from `cloud.databases` (cloud_db.chosen).
BASE_MODULES = ("networking", "eks", "ecr", "github-oidc")
MODULES = "terraform/modules"
MODULES_README = f"{MODULES}/README.md"


def modules_used(cfg: Config) -> list[str]:
    """The tool modules a cloud environment's root calls at `../../modules/<name>`."""
    return sorted({*BASE_MODULES, *cloud_db.chosen(cfg.cloud, cfg.project)})


def module_copies(cfgs: Iterable[Config]) -> Outputs:
    """A project that is not the tool's checkout has no terraform/modules/ of its own: the
    tool's modules its roots call are copied into it byte for byte, so the roots' relative
    sources resolve and the project's terraform/ is complete (plan, validate, checkov). A
    README there says so (a comment in a copy would change its bytes)."""
    users: dict[str, list[str]] = {}
    for cfg in cfgs:
        if cfg.cloud is not None:
            for name in modules_used(cfg):
                users.setdefault(name, []).append(cfg.env)
    out: Outputs = {}
    for name in sorted(users):
        for source in _tool_module_files(name):
            rel = source.relative_to(paths.TOOL / MODULES / name).as_posix()
            out[f"{MODULES}/{name}/{rel}"] = functools.partial(_exact_text, source)
    if users:
        out[MODULES_README] = _render("terraform/modules.README.md.j2", users=dict(sorted(users.items())))
    return out


def _tool_module_files(name: str) -> list[Path]:
    # The README is rendered from the templates: an install without them says that first.
    _tool_folder(paths.templates(), "templates are")
    folder = _tool_folder(paths.TOOL / MODULES / name, f"{MODULES}/{name} is")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not state.is_temp(p))


def _exact_text(source: Path) -> str:
    # Bytes decoded as they are (read_text would turn a CRLF into LF): a copy is the same bytes.
    return source.read_bytes().decode("utf-8")


def prune_copies(outputs: dict[str, str], root: Path) -> list[str]:
    """Remove the module copies (and their README) no environment uses any more.

    A copy is a file at a path the tool's own module has; anything else under
    terraform/modules/ (a team's own module) is never touched. Emptied folders go too:
    a module folder without files would fail `tf_validate`."""
    removed: list[str] = []
    folder = root / MODULES
    if not folder.is_dir():
        return removed
    tool = paths.TOOL / MODULES
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or state.is_temp(path) or rel in outputs:
            continue
        inside = path.relative_to(folder)
        copy = len(inside.parts) > 1 and (tool / inside).is_file()
        readme = rel == MODULES_README and "by `doit render`" in path.read_text(errors="replace")[:300]
        if copy or readme:
            path.unlink()
            removed.append(rel)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
    return removed


# --- Writing ------------------------------------------------------------------------


def parse_check(outputs: dict[str, str]) -> None:
    """Every YAML output must parse: the last guard before anything is written."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for rel, text in sorted(outputs.items()):
        if not rel.endswith((".yaml", ".yml")):
            continue
        try:
            for _ in yaml.load_all(text, Loader=loader):
                pass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark else ""
            raise StackError(
                f"rendering produced invalid YAML in {rel}{where}: {getattr(exc, 'problem', exc)}",
                fix="fix the template that writes it (its header names it), or the value it prints",
            ) from None


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return False  # gremlin: pardon[equivalent] its one caller negates it: None is "not held" too


def write_all(outputs: dict[str, str], root: Path, *, prune: Iterable[str] = ()) -> list[str]:
    """Write every changed output, all or nothing; return the paths whose bytes changed (or were removed).

    Called only after everything rendered and parsed, so a template or config error
    leaves the tree untouched. Unchanged files are not rewritten. In `prune` folders,
    generated files (they carry our header) that are no longer produced are removed.
    """
    changed = [rel for rel, text in sorted(outputs.items()) if not _holds(root / rel, text)]
    try:
        # All or nothing: a failure in the middle leaves every output as it was.
        state.write_all_atomic({root / rel: outputs[rel] for rel in changed})
    except OSError as exc:  # a read-only checkout, a file where a folder should be, a full disk
        failed = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "the outputs"
        raise StackError(
            f"cannot write {failed}: {exc.strerror or exc}",
            fix=f"make {Path(failed).parent} a writable folder, then run `doit render` again",
        ) from None
    for folder in prune:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            # Another run's temp file is in flight, not stale output: never touch it.
            if not path.is_file() or state.is_temp(path) or rel in outputs:
                continue
            if "by `doit render`" in path.read_text(errors="replace")[:300]:
                path.unlink()
                changed.append(rel)
    return changed
