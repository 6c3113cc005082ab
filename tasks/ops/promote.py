"""`doit promote from=<env> to=<env>`: one environment's release, by digest, into another's.

Nothing is built: every image the target's cluster runs is taken from the source's release
record (tasks/ops/release_record.py). Where the target's repository differs from the
source's (another registry, another account), `skopeo copy --all --preserve-digests` copies
the image, and every platform of a manifest list, byte for byte; where they are the same
repository, the digest is only checked. Then the target's record is rewritten: the same
digests and commits, in the target's repositories. A copy is checked by reading the digest
back from the target registry before the record names it.
"""

from __future__ import annotations

from tasks.errors import ConfigError, StackError
from tasks.model import Config
from tasks.ops import release_record as rr
from tasks.output import console
from tasks.programs import skopeo


def _registry(cfg: Config) -> str:
    if cfg.cloud is None:
        raise StackError(
            f"{cfg.env} is not a cloud environment (environments/{cfg.env}.yaml has no `cloud:` block)",
            fix="promote between environments with a `cloud:` block",
        )
    return cfg.cloud.registry.rstrip("/")


def promote(source: Config, target: Config) -> None:
    """Copy what `source`'s record pins into `target`'s registry (where it differs), then
    rewrite `target`'s record. Refuses, before copying anything, a record that lacks an image."""
    if source.env == target.env:
        raise StackError(
            f"from={source.env} and to={target.env} are the same environment",
            fix=f"name the environment to promote {source.env}'s release into, e.g. "
            f"`doit promote from={source.env} to=<another cloud environment>`",
        )
    src_registry, dst_registry = _registry(source), _registry(target)
    record = rr.required(source.env, how=rr.how(source.env))
    names = target.cluster_images()
    absent = [n for n in names if n not in record.images]
    if absent:
        raise StackError(
            f"{rr.path(source.env).as_posix()} names no image for {', '.join(absent)} "
            f"(which {target.env} runs)",
            fix=rr.how(source.env),
        )
    _check_in_registry(source.env, record, names, src_registry)
    _check_target_record(target.env)
    promoted = {name: _one(record.images[name], src_registry, dst_registry) for name in names}
    changed = rr.write(rr.Record(target.env, promoted))
    where = rr.path(target.env).as_posix()
    counted = f"{len(promoted)} images from {source.env}, nothing built"
    if changed:
        console.step(f"{where}: rewritten ({counted}); commit it, then `doit deploy:{target.env}`")
    else:
        console.step(
            f"{where}: unchanged ({counted}), nothing to commit; `doit deploy:{target.env}` applies it"
        )


def _check_in_registry(env: str, record: rr.Record, names: list[str], registry: str) -> None:
    """An image of the source record in another registry or account than the source's cannot
    be mapped into the target's repositories: refused (as `deploy:<env>` refuses it), before any copy."""
    foreign = sorted(n for n in names if not record.images[n].repository.startswith(registry + "/"))
    if foreign:
        raise StackError(
            f"{rr.path(env).as_posix()}: {', '.join(foreign)} not in {env}'s registry {registry} "
            f"({record.images[foreign[0]].repository}); nothing was copied",
            fix=f"write {env}'s record again (`doit push:{env}`), or restore it with `git checkout`",
        )


def _check_target_record(env: str) -> None:
    """A malformed target record is overwritten, not refused: promote writes the whole record
    from the source's anyway (docs/decisions.md), and git keeps what was there."""
    try:
        rr.read(env)
    except ConfigError as exc:
        console.note(
            f"{rr.path(env).as_posix()} is malformed (at {exc.keypath or 'the top'}: {exc.problem}); "
            "promote writes it anew (`git diff` shows what it replaced)"
        )


def _one(image: rr.Image, src_registry: str, dst_registry: str) -> rr.Image:
    path = image.repository.removeprefix(src_registry + "/")
    dest = rr.Image(f"{dst_registry}/{path}", image.digest, image.commit)
    short = image.digest.removeprefix("sha256:")[:12]
    if skopeo.digest(dest.reference) == image.digest:
        console.step(f"{dest.repository}@{short}: already there")
        return dest
    if dest.repository == image.repository or skopeo.digest(image.reference) is None:
        raise StackError(
            f"the registry lacks {image.reference}, which the source record names; nothing was copied for it",
            fix="push it again (`doit push:<source env>`), or promote from a release the registry holds",
        )
    skopeo.copy(image.reference, dest.reference)
    if skopeo.digest(dest.reference) != image.digest:
        raise StackError(
            f"{dest.reference} is not served after the copy",
            fix=f"check the registry {dst_registry}, then promote again",
        )
    console.step(f"{dest.repository}@{short}: copied from {image.repository}")
    return dest
