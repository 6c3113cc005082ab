"""Rules about the services: what they use, their health checks, names, ports and resources."""

from __future__ import annotations

import difflib
from decimal import Decimal

from tasks.config import schema as s
from tasks.config.fields import HEALTH_KEYS, SERVICE
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath, dotted


def environment_services_are_the_stacks_or_whole(m: Merged) -> None:
    """An environment file may add a whole service; one it only tunes (no `command:`), that the
    stack does not declare and is a database's name or close to a service's, is that database or
    a typo: say that, not "missing `command`"; a name like none is a new service, incomplete, or
    a service the user thought the stack had: the error says both."""
    declared = m.docs[0].data.get("services") or {}
    for doc in m.docs[1:]:
        for name in doc.data.get("services") or {}:
            missing = s.first_missing(m.data["services"][name], SERVICE)
            if name in declared or not missing:
                continue
            at = ("services", name)
            if name in (m.data.get("databases") or {}):
                raise m.error(
                    at,
                    f"{name!r} is a database, not a service",
                    f"configure it under `databases: {{{name}: ...}}` (or its placement under "
                    "`placement:`), not under `services:`",
                )
            if difflib.get_close_matches(name, list(declared), n=1):
                raise m.error(
                    at,
                    f"unknown service {name!r}: environments/stack.yaml declares no such service",
                    s.did_you_mean(name, declared),
                )
            where, keys = missing
            if where == ():  # a nested key missing (a health check's port) is the schema's to say
                wanted = ", ".join(f"`{k}:`" for k in keys)
                raise m.error(
                    at,
                    f"{name!r} is not a service of environments/stack.yaml, and as a service this "
                    f"file adds it lacks {', '.join(repr(k) for k in keys)}",
                    f"add {wanted} under services.{name} to add a service here, or name one of the "
                    f"stack's services ({', '.join(sorted(declared)) or 'none yet'})",
                )


def disabled_services_are_known(m: Merged) -> None:
    for i, name in enumerate(m.data.get("disabled_services", [])):
        if name not in m.data["services"]:
            raise m.error(
                ("disabled_services", i),
                f"unknown service {name!r}",
                s.did_you_mean(name, m.data["services"]),
            )


def uses_name_known_databases(m: Merged) -> None:
    """Of every service, the disabled ones too: a typo is a typo wherever it is. A service
    is not used but called (`calls`, with its port): it has no address variable or secret."""
    databases, services = m.data["databases"], m.data["services"]
    for name, raw in services.items():
        for key in ("uses", "optional_uses"):
            for i, db in enumerate(raw.get(key, [])):
                if db in databases:
                    continue
                if db in services:
                    raise m.error(
                        ("services", name, key, i),
                        f"{db!r} is a service, not a database",
                        f"move it to `calls: {{{db}: <port>}}` under services.{name}: a service is "
                        "called on one of its ports",
                    )
                raise m.error(
                    ("services", name, key, i),
                    f"{db!r} is neither a database nor a service",
                    s.did_you_mean(db, [*databases, *services]),
                )


def calls_name_known_services(m: Merged) -> None:
    """`calls` names other services (of every service, the disabled ones too)."""
    databases, services = m.data["databases"], m.data["services"]
    for name, raw in services.items():
        for callee in raw.get("calls", {}):
            at = ("services", name, "calls", callee)
            if callee in databases and callee not in services:
                raise m.error(
                    at,
                    f"{callee!r} is a database, not a service",
                    f"move it to `uses: [{callee}]`: a database is used (its address and secrets)",
                )
            if callee == name:
                raise m.error(at, f"{name} calls itself", "remove it: a pod always reaches itself")
            if callee not in services:
                raise m.error(
                    at,
                    f"{callee!r} is neither a service nor a database",
                    s.did_you_mean(callee, [n for n in [*services, *databases] if n != name]),
                )


def calls_name_a_port_of_the_callee(m: Merged) -> None:
    """A call reaches a deployment (a job has no Service) on a port it declares."""
    services = m.data["services"]
    for name, raw in services.items():
        for callee, port in raw.get("calls", {}).items():
            target = services[callee]
            ports = target.get("ports", [])
            at = ("services", name, "calls", callee)
            if target.get("kind", "deployment") == "job":
                raise m.error(at, f"{callee} is a job: nothing can call it", f"remove {callee} from calls")
            if not ports:
                raise m.error(
                    at,
                    f"{callee} has no ports, so it cannot be called",
                    f"add the port it listens on under services.{callee}.ports",
                )
            if not any(port in (p["port"], p["name"]) for p in ports):
                listed = ", ".join(f"{p['name']} ({p['port']})" for p in ports)
                raise m.error(at, f"{callee} has no port {port!r}", f"call one of its ports: {listed}")


def called_services_are_not_disabled(m: Merged) -> None:
    disabled = m.data.get("disabled_services", [])
    for name in m.enabled():
        off = [callee for callee in m.data["services"][name].get("calls", {}) if callee in disabled]
        if off:
            raise m.error(
                ("disabled_services",),
                f"service {name!r} calls {', '.join(off)}, which is disabled here",
                f"add {name} to disabled_services too, or enable {', '.join(off)}",
            )


def service_secrets_are_declared(m: Merged) -> None:
    declared = m.data.get("secrets", [])
    for name, raw in m.data["services"].items():
        for i, secret in enumerate(raw.get("secrets", [])):
            if secret not in declared:
                raise m.error(
                    ("services", name, "secrets", i),
                    f"undeclared secret {secret!r}",
                    (f"{s.did_you_mean(secret, declared)}; or " if declared else "")
                    + f"add {secret} to the top-level `secrets:` list",
                )


def every_secret_reaches_a_container(m: Merged) -> None:
    """Each service gets only the secrets of the databases it uses and those it names: a
    declared secret that no database and no service names would silently reach nobody."""
    named = {secret for raw in m.data["databases"].values() for secret in raw.get("secret_env", {}).values()}
    named |= {secret for raw in m.data["services"].values() for secret in raw.get("secrets", [])}
    for i, secret in enumerate(m.data.get("secrets", [])):
        if secret not in named:
            raise m.error(
                ("secrets", i),
                f"secret {secret} is given to no container: services get only the secrets of the "
                "databases they use and those they name",
                f"add it under `secrets:` of each service that reads it (services.<name>.secrets: "
                f"[{secret}]), or under a database's secret_env; or remove it",
            )


def used_databases_are_not_disabled(m: Merged) -> None:
    for name in m.enabled():
        off = [db for db in m.data["services"][name].get("uses", []) if m.placement(db) == "disabled"]
        if off:
            raise m.error(
                ("disabled_services",),
                f"service {name!r} needs {', '.join(off)}, which is disabled here",
                f"add {name} to disabled_services, or place {', '.join(off)}",
            )


def deployments_have_a_health_check(m: Merged) -> None:
    for name in m.enabled():
        if m.kind(name) == "deployment" and "health" not in m.data["services"][name]:
            raise m.error(
                ("services", name),
                f"deployment {name!r} has no health check",
                "add `health: {kind: http, port: N, path: /healthz}` (or kind tcp or exec; "
                "used for probes and healthchecks)",
            )


def jobs_have_no_health_check(m: Merged) -> None:
    for name in m.jobs_declaring("health"):
        raise m.error(
            ("services", name, "health"),
            f"job {name!r} has a health check",
            "remove it: a job runs once, and its exit code says whether it worked",
        )


def health_checks_have_the_keys_of_their_kind(m: Merged) -> None:
    """Exactly the keys the kind uses (no kind: http, the form `{port, path}` every stack
    wrote before kinds existed), and an exec check runs something."""
    examples = {"port": "port: 8080", "path": "path: /healthz", "command": "command: [my-check]"}
    for name in m.enabled():
        raw = m.data["services"][name].get("health")
        if raw is None:
            continue
        kind = raw.get("kind", "http")
        at = ("services", name, "health")
        for key in HEALTH_KEYS[kind]:
            if key not in raw:
                raise m.error(
                    at, f"a health check of kind {kind} needs {key!r}", f"add `{examples[key]}` under health"
                )
        for key in raw:
            if key != "kind" and key not in HEALTH_KEYS[kind]:
                raise m.error(
                    at + (key,),
                    f"{key!r} is not used by a health check of kind {kind}",
                    "remove it, or set the kind that uses it "
                    f"({', '.join(k for k, keys in HEALTH_KEYS.items() if key in keys)})",
                )
        if kind == "exec" and not raw["command"]:
            raise m.error(
                at + ("command",),
                "the health command is empty",
                "write the program and its arguments, e.g. [my-check, --quiet]",
            )


def service_names_are_not_the_tools_images(m: Merged) -> None:
    for name in m.data["services"]:
        if name in ("base", "builder"):
            raise m.error(
                ("services", name),
                f"{name!r} is the name of the tool's own {name} image",
                "rename the service: its image would overwrite that one's record",
            )


def a_name_is_a_service_or_a_database(m: Merged) -> None:
    for name in m.data["services"]:
        if name in m.data["databases"]:
            raise m.error(
                ("services", name),
                f"{name!r} names both a service and a database",
                "rename one: each becomes a container, a Kubernetes object and a host name",
            )


def uses_and_optional_uses_are_disjoint(m: Merged) -> None:
    for name in m.enabled():
        raw = m.data["services"][name]
        for i, db in enumerate(raw.get("optional_uses", [])):
            if db in raw.get("uses", []):
                raise m.error(
                    ("services", name, "optional_uses", i),
                    f"{db!r} is in both uses and optional_uses",
                    "keep it in one of the two",
                )


def ports_are_unique_per_service(m: Merged) -> None:
    for name in m.enabled():
        seen_ports: dict[int, int] = {}
        seen_names: dict[str, int] = {}
        for i, p in enumerate(m.data["services"][name].get("ports", [])):
            at = ("services", name, "ports", i)
            if p["port"] in seen_ports:
                raise m.error(
                    at + ("port",),
                    f"port {p['port']} is listed twice (also ports[{seen_ports[p['port']]}])",
                    "remove the duplicate entry",
                )
            if p["name"] in seen_names:
                raise m.error(
                    at + ("name",),
                    f"port name {p['name']!r} is used twice (also ports[{seen_names[p['name']]}])",
                    "give each port its own name",
                )
            seen_ports[p["port"]], seen_names[p["name"]] = i, i


def host_ports_are_published_once(m: Merged) -> None:
    """By the services, and by the databases Compose runs on the host here."""
    published: list[tuple[int, KeyPath]] = [
        (p["publish"], ("services", name, "ports", i, "publish"))
        for name in m.enabled()
        for i, p in enumerate(m.data["services"][name].get("ports", []))
        if p.get("publish")
    ]
    published += [
        (raw["publish"], ("databases", name, "publish"))
        for name, raw in m.data["databases"].items()
        if m.placement(name) == "compose" and raw.get("publish")
    ]
    owners: dict[int, str] = {}
    for port, path in published:
        if port in owners:
            raise m.error(
                path,
                f"host port {port} is already published by {owners[port]}",
                "give each published port its own number",
            )
        owners[port] = dotted(path)


def cpu_millis(value: str) -> Decimal:
    return Decimal(value[:-1]) if value.endswith("m") else Decimal(value) * 1000


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def memory_bytes(value: str) -> int:
    # No unit ends with another ("Mi" and "M"), so the order they are tried in is irrelevant.
    for suffix, factor in _UNITS.items():
        if value.endswith(suffix):
            return int(value[: -len(suffix)]) * factor
    return int(value)


def requests_are_at_most_limits(m: Merged) -> None:
    for name in m.enabled():
        resources = m.data["services"][name]["resources"]
        for res, measure in (("cpu", cpu_millis), ("memory", memory_bytes)):
            req, lim = str(resources["requests"][res]), str(resources["limits"][res])
            if measure(req) > measure(lim):
                raise m.error(
                    ("services", name, "resources", "requests", res),
                    f"the {res} request {req} is above the limit {lim}",
                    f"lower requests.{res} or raise limits.{res}",
                )


def compose_runs_one_container_per_published_port(m: Merged) -> None:
    """Compose runs `replicas` containers of a service, but a host port can be bound by one
    container only: the second would fail at `compose up` with "port is already allocated".
    An autoscale `min` above the count raises it (build.replicas): refused the same way, at min."""
    if m.alone or m.data["runtime"] != "compose":
        return
    for name in m.enabled():
        raw = m.data["services"][name]
        published = [p["publish"] for p in raw.get("ports", []) if p.get("publish")]
        key, replicas = "replicas", raw.get("replicas", 1)
        if "autoscale" in raw and raw["autoscale"]["min"] > replicas:
            key, replicas = "autoscale", raw["autoscale"]["min"]
        if replicas > 1 and published:
            at = ("services", name, "replicas") if key == "replicas" else ("services", name, key, "min")
            setting = "replicas: 1" if key == "replicas" else "autoscale: {min: 1}"
            raise m.error(
                at,
                f"{name} publishes host port {published[0]}, so Compose can run only one "
                f"container of it, not {replicas}, in environment {m.env} ({m.docs[-1].file} "
                "runs it with Compose)",
                f"set `services: {{{name}: {{{setting}}}}}` in {m.docs[-1].file}, or remove "
                "`publish` from its ports (other services still reach it on the Compose network)",
            )
