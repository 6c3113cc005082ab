"""The image-build task dicts of one environment for one daemon, shared by the image tasks
(`images:*`, tasks/families/images.py) and Minikube's (`minikube_images:*`): task creators
never import each other, so what both build lives here, one layer down.

Propagation: the builder re-runs when its inputs change; every service build that
copies from it then re-runs too, but the layer cache makes a service whose copied
files did not change come out with the same image ID, hence the same tag and the
same .ref bytes, so nothing downstream of it (md5 on .ref files) moves.

A build context is one input, not its files: `<basename>:context:<folder>` writes the digest
of the folder's files to a stamp, and each image built from the folder lists the stamp. Every
service of the demo builds from demo/ with its builder, so listing the files themselves gave
each of N image tasks N files: `doit list` grew with the square of the services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from doit.tools import config_changed

from tasks.errors import StackError
from tasks.families.shared.creators import user_errors
from tasks.model import Build, Config, Database, Service
from tasks.ops import docker_images
from tasks.output import console
from tasks.store import atomic, images, state
from tasks.store.paths import files_under, listed

DockerEnv = Callable[[], Mapping[str, str]]
# The name of a build context's task begins so (`images:context:demo`): no image's name can.
CONTEXT = "context:"


def _no_env() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to an Image or hashes one
class Image:
    """One image task's fixed facts; named functions below take it (no lambdas: `doit info`
    names what a task runs and checks)."""

    env: str
    basename: str
    name: str
    platform: str | None = None  # a foreign platform's image (`linux/arm64`); None: the host's

    @property
    def task(self) -> str:
        """The subtask's name: `api`, or `api@arm64` for a foreign platform's image."""
        return self.name if self.platform is None else f"{self.name}@{images.arch(self.platform)}"

    @property
    def label(self) -> str:
        """How `doit info` names it: its subtask's name, so a foreign image is not the host's."""
        return self.task

    @property
    def iid(self) -> Path:
        return images.iid_file(self.env, self.name, images.folder(self.basename, self.platform))

    @property
    def ref(self) -> Path:
        return images.ref_file(self.env, self.name, images.folder(self.basename, self.platform))

    def sibling(self, name: str) -> Image:
        return Image(self.env, self.basename, name, self.platform)

    def recorded(self) -> str:
        return self.ref.read_text().strip()


def image_in_daemon(image: Image, docker_env: DockerEnv) -> bool:
    """uptodate: built before and the daemon still has it under its content tag.

    Never raises: `doit list --status`, `info` and `reset-dep` ask it too. A daemon that
    cannot be asked (Minikube's, with minikube missing or stopped) means "not done", and
    the build action then reports why."""
    try:
        env = docker_env()
    except StackError:
        return False
    return docker_images.is_current(image.iid, image.ref, env)


def base_arg(cfg: Config, image: Image) -> str:
    # The debootstrap base is referenced by its recorded content tag.
    return image.sibling("base").recorded() if cfg.images.base == "debootstrap" else cfg.images.base_image


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def static_args(cfg: Config, build: Build | None, service: str | None) -> dict[str, str]:
    """The build args known before any build: the stack's own, UID and SERVICE. A change in
    them rebuilds the image (config_changed); BASE_IMAGE and BUILDER_IMAGE follow .ref files."""
    if build is None:  # a database image of ours: only the base is ours to pass
        return {}
    args = {key: _text(value) for key, value in build.args.items()} | {"UID": str(cfg.images.uid)}
    return args | ({"SERVICE": service} if service is not None else {})


def build_args(cfg: Config, image: Image, build: Build | None, service: str | None) -> dict[str, str]:
    """Read at run time: the base's and builder's tags are known only once they are built."""
    args = static_args(cfg, build, service) | {"BASE_IMAGE": base_arg(cfg, image)}
    if build is not None and build.builder:
        args["BUILDER_IMAGE"] = image.sibling("builder").recorded()
    return args


@user_errors
def make_base(cfg: Config, image: Image, docker_env: DockerEnv) -> None:
    # Even when forced (`doit -a`): a new debootstrap is never byte-identical and
    # would move every tag downstream, so a base the daemon still has is kept.
    # To make a fresh one, remove .build/<env>/<basename>/base.* first.
    if image_in_daemon(image, docker_env):
        console.show(f"[{image.task}] keeping {image.recorded()}")
        return
    docker_images.debootstrap_base(
        image.task,
        suite=cfg.images.suite,
        platform=image.platform,
        repo=f"{cfg.images.prefix}/base",
        iid=image.iid,
        ref=image.ref,
        docker_env=docker_env(),
    )


def context_current(folder: str, stamp: Path) -> bool:
    """uptodate of an image: its build context holds what the stamp says. Until the context
    task has run, the stamp still says what was built, so without this check `doit info`
    would call an image up to date after an edit that will rebuild it."""
    try:
        stamped = stamp.read_text(encoding="utf-8")
        return stamped == images.current_digest(folder, _context_now(folder))
    except (OSError, UnicodeDecodeError):  # no stamp yet, or a file vanished while it was read
        return False


def context_files(folder: str, files: list[str]) -> list[str]:
    """A build context's files but the build state (.build/): with the project root as the
    context (`.`), the stamp, refs and logs written there were files of the context they describe
    (its stamp a file_dep of its own task: doit stopped on a cycle). A context inside .build/
    (one a hook generates) keeps its files."""
    if Path(folder).parts[:1] == state.BUILD.parts:
        return files
    return [f for f in files if Path(f).parts[:1] != state.BUILD.parts]


@user_errors
def stamp_context(folder: str, stamp: Path) -> None:
    """The context's digest, written only when it changed (an image lists the stamp)."""
    atomic.write_text(stamp, images.context_digest(folder, _context_now(folder)))


def _context_now(folder: str) -> list[str]:
    """The context's files as the disk has them now (an action's or a check's answer, never the
    run's listing, which task creation made before any build ran)."""
    return context_files(folder, files_under(folder))


@user_errors
def build_image(
    cfg: Config,
    image: Image,
    dockerfile: str,
    context: str,
    repo: str,
    build: Build | None,
    service: str | None,
    docker_env: DockerEnv,
) -> None:
    docker_images.build(
        image.task,
        dockerfile=dockerfile,
        platform=image.platform,
        context=context,
        args=build_args(cfg, image, build, service),
        stage=build.target if build else None,
        repo=repo,
        iid=image.iid,
        ref=image.ref,
        docker_env=docker_env(),
    )


class _Daemon(NamedTuple):
    """Where one environment's images are built: the facts every image task of it shares."""

    cfg: Config
    env: str
    basename: str
    docker_env: DockerEnv
    task_dep: list[str]
    platform: str | None  # a foreign platform these images are built for; None: the host's

    def context(self, folder: str) -> str:
        """The stamp of a build context (one per daemon, whatever the platform)."""
        return str(images.context_stamp(self.env, folder, self.basename))

    def image(self, name: str) -> Image:
        return Image(self.env, self.basename, name, self.platform)


def generate(
    cfg: Config,
    *,
    basename: str = "images",
    docker_env: DockerEnv = _no_env,
    task_dep: list[str] | None = None,
    foreign: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Every image task of one environment, for one daemon (named by `basename`): the host
    platform's, then the same images for each `foreign` platform (`<image>@arm64`).

    Returned as plain task dicts named `<basename>:<image>`, so the Minikube tasks can
    build the same images into Minikube's daemon under their own names and state.
    """
    folders = {svc.build.context for svc in cfg.services.values()}
    if cfg.images.builder and _builder_used(cfg):
        folders.add(cfg.images.builder.context)
    folders |= {str(db.build) for db in _built_databases(cfg)}
    tasks: list[dict[str, Any]] = []
    for platform in (None, *foreign):
        daemon = _Daemon(cfg, cfg.env, basename, docker_env, list(task_dep or []), platform)
        tasks += _platform_tasks(daemon)
    # A digest needs no daemon, but it waits as the images do: when the daemon is down, its
    # preflight is the first and only thing a run says.
    deps = list(task_dep or [])
    return tasks + [_context_task(cfg.env, basename, folder, deps) for folder in sorted(folders)]


def _platform_tasks(daemon: _Daemon) -> list[dict[str, Any]]:
    cfg = daemon.cfg
    tasks = [_base_task(daemon)] if cfg.images.base == "debootstrap" else []
    builder = cfg.images.builder
    if builder is not None and _builder_used(cfg):
        tasks.append(
            _build_task(
                daemon,
                "builder",
                dockerfile=builder.dockerfile,
                context=builder.context,
                contexts=[builder.context],
                repo=f"{cfg.images.prefix}/builder",
                build=builder,
                doc="Shared builder image: builds and tests the app once.",
            )
        )
    tasks += [_service_task(daemon, svc) for svc in cfg.services.values()]
    for db in _built_databases(cfg):
        tasks.append(
            _build_task(
                daemon,
                db.name,
                dockerfile=f"{db.build}/Dockerfile",
                context=str(db.build),
                contexts=[str(db.build)],
                repo=db.image,
                doc=f"Offline {db.name} image from Debian packages.",
            )
        )
    return tasks


def _builder_used(cfg: Config) -> bool:
    """A service copies from the builder: only then is there a builder image (and context)."""
    return any(svc.build.builder for svc in cfg.services.values())


def _built_databases(cfg: Config) -> list[Database]:
    """The databases whose images are ours to build (a `build:` folder, not disabled here)."""
    return [db for db in cfg.databases.values() if db.build and db.placement != "disabled"]


def _service_task(daemon: _Daemon, svc: Service) -> dict[str, Any]:
    contexts, refs = [svc.build.context], []
    builder = daemon.cfg.images.builder
    if svc.build.builder and builder is not None:
        # The builder's context is checked too: a source edit then shows as this image's own
        # reason to rebuild in `doit info` (its builder will change), not as "up-to-date".
        contexts.append(builder.context)
        refs.append(str(daemon.image("builder").ref))
    how = "copies from the builder" if svc.build.builder else f"from {svc.build.dockerfile}"
    return _build_task(
        daemon,
        svc.name,
        dockerfile=svc.build.dockerfile,
        context=svc.build.context,
        contexts=contexts,
        refs=refs,
        build=svc.build,
        service=svc.name,
        repo=daemon.cfg.image_ref(svc.name),
        doc=f"Service image for {svc.name} ({how}).",
    )


def _context_task(env: str, basename: str, folder: str, task_dep: list[str]) -> dict[str, Any]:
    stamp = images.context_stamp(env, folder, basename)
    return {
        "name": f"{CONTEXT}{folder}",
        "doc": f"Digest of the build context {folder} (its files' paths and bytes).",
        "actions": [(stamp_context, [folder, stamp])],
        "file_dep": context_files(folder, listed(folder)),
        "targets": [str(stamp)],
        "task_dep": task_dep,
        "clean": True,
    }


def _base_task(daemon: _Daemon) -> dict[str, Any]:
    base = daemon.image("base")
    return {
        "name": base.task,
        "doc": "Base image made offline with debootstrap + docker import."
        + (f" For {base.platform}." if base.platform else ""),
        "actions": [(make_base, [daemon.cfg, base, daemon.docker_env])],
        "targets": [str(base.ref)],
        "task_dep": daemon.task_dep,
        # debootstrap output is never byte-identical, so only a missing image rebuilds it.
        "uptodate": [(image_in_daemon, [base, daemon.docker_env])],
    }


def _build_task(
    daemon: _Daemon,
    name: str,
    *,
    dockerfile: str,
    context: str,
    contexts: list[str],
    repo: str,
    doc: str,
    refs: list[str] | None = None,
    build: Build | None = None,
    service: str | None = None,
) -> dict[str, Any]:
    cfg, docker_env = daemon.cfg, daemon.docker_env
    image = daemon.image(name)
    # An offline base is an input of every image built on it.
    base_deps = [str(daemon.image("base").ref)] if cfg.images.base == "debootstrap" else []
    uptodate: list[Any] = [(image_in_daemon, [image, docker_env])]
    if build is not None:
        # Args and target are not files: a changed one (images.uid, say) must rebuild too.
        uptodate.append(
            config_changed(
                {
                    "args": static_args(cfg, build, service),
                    "target": build.target,
                    "base_image": cfg.images.base_image,
                }
            )
        )
    # Each build context is its stamp, and is checked against the files as they are now.
    stamps = {folder: daemon.context(folder) for folder in sorted(set(contexts))}
    uptodate += [(context_current, [folder, Path(stamp)]) for folder, stamp in stamps.items()]
    return {
        "name": image.task,
        "doc": doc if image.platform is None else f"{doc} For {image.platform}.",
        "actions": [(build_image, [cfg, image, dockerfile, context, repo, build, service, docker_env])],
        "file_dep": sorted({dockerfile, *(refs or []), *stamps.values(), *base_deps}),
        "targets": [str(image.ref), str(image.iid)],
        "uptodate": uptodate,
        "task_dep": daemon.task_dep,
        "clean": True,
    }
