"""Why a Compose step failed, in words: which service, Compose's reason, the cause its health
check gave (Docker's health log, `State.Health.Log`), and the service's last log lines.

A health check that fails says why in its own output, which is in no container log: a
report that shows only the logs often shows "(no output)". So the last check's exit code
and output come first.
"""

from __future__ import annotations

from tasks.errors import StackError, ToolError
from tasks.ops import compose_volumes as volumes
from tasks.ops.compose_stack import Stack, image_env
from tasks.programs import compose as compose_cli
from tasks.programs import docker
from tasks.programs.compose import Container

LOG_TAIL = 20
# How far back a refused login is looked for: a service logs it once, when its verdict changes,
# and then its health endpoint may fill the last lines (a probe that timed out under load left a
# ConnectionResetError traceback per try), so the last LOG_TAIL lines can miss it.
LOG_SCAN = 200
HEALTH_TAIL = 10  # lines of the last health check's output


def explain(stack: Stack, names: list[str], error: ToolError) -> StackError:
    """Turn a failed `up`/`run` into: which service, why (tools' fix), its health check's
    last output, its last log lines."""
    try:
        containers = compose_cli.ps(stack.compose_project(), *names, env=image_env(stack, [], required=False))
    except ToolError:
        return error  # the daemon itself is the problem; tools already said so
    bad = failing(containers, names)
    if not bad:
        return error
    parts = [
        f"{', '.join(bad)} failed to start or become healthy (environment {stack.env}): "
        + compose_cli.reason(error)
    ]
    checks = docker.health([c.name for c in containers if c.service in bad and c.name])
    refused: list[str] = []
    for name in bad:
        parts += health_lines(
            name, [checks[c.name] for c in containers if c.service == name and c.name in checks]
        )
        logs = compose_cli.logs(
            stack.compose_project(),
            name,
            env=image_env(stack, [], required=False),
            tail=LOG_SCAN,
            check=False,
        )
        if compose_cli.refused_login(logs):
            refused.append(name)
        text = "\n".join(logs.strip().splitlines()[-LOG_TAIL:]) or "(no output)"
        parts.append(f"--- last {LOG_TAIL} log lines of {name} ---\n{text}")
    if refused and volumes.data_volumes(stack):
        # One sentence first: the cause is the secrets, not the services.
        return StackError(
            volumes.mismatch(
                stack, f"{', '.join(refused)} cannot log in with the passwords in {stack.env_file}"
            )
            + ".\n"
            + "\n".join(parts),
            fix=volumes.mismatch_fix(stack),
        )
    fix = error.fix or (
        f"read the health check and logs above; `doit compose_logs env={stack.env}` shows all logs, "
        f"`doit compose_ps env={stack.env}` the state"
    )
    return StackError("\n".join(parts), fix=fix)


def health_lines(name: str, checks: list[docker.HealthCheck]) -> list[str]:
    """The last output of the service's health check, from the worst of its containers."""
    failed = [c for c in checks if c.exit_code not in (None, 0)]
    if not failed:
        return []
    check = max(failed, key=lambda c: (c.status == "unhealthy", c.failing_streak))
    said = "\n".join(check.output.splitlines()[-HEALTH_TAIL:]) or "(no output)"
    streak = f", {check.failing_streak} failed in a row" if check.failing_streak else ""
    return [f"--- last health check of {name} (exit {check.exit_code}{streak}) ---\n{said}"]


def failing(rows: list[Container], names: list[str]) -> list[str]:
    """The services among `names` to blame: broken ones, else (a timeout) the not-yet-healthy.

    `--wait` gives up as soon as one container fails; the others may still be starting,
    and blaming them too would hide the culprit.
    """
    state: dict[str, str] = {}
    for row in rows:
        if row.state != "running" or row.health == "unhealthy":
            verdict = "broken"
        elif row.health == "starting":
            verdict = "starting"
        else:
            verdict = "ok"
        if state.get(row.service, "ok") == "ok" or verdict == "broken":
            state[row.service] = verdict
    broken = [n for n in names if state.get(n, "broken") == "broken"]
    return broken or [n for n in names if state.get(n) == "starting"]
