"""Run the validation of a rendered Terraform root offline, with the embedded Terraform.

A root's `main.tf` calls the tool's modules, which need providers, and providers cannot be
downloaded here. But variable validation needs no provider: Terraform checks every `validation
{}` of the root's variables and of each module's input variables during `plan`, before it
asks a provider anything. So the probe is the rendered root with what needs a provider taken
out:

- the root's `variables.tf` and `terraform.tfvars` as rendered, unchanged;
- its `main.tf` without the `provider` and `data` blocks (the one data source, the AWS
  partition, becomes the literal "aws"), each module source pointing at a probe copy;
- each probe module: the tool module's own `variables.tf`, unchanged, plus an `outputs.tf`
  giving the outputs the root reads (`module.networking.private_subnet_ids`) a fixed value;
- the root variables that are never rendered (API keys, passwords: `TF_VAR_...`) set to
  valid stand-ins.

`terraform init` then installs only local modules (offline) and `terraform plan` fails with
"Invalid value for variable" exactly where the tool's Terraform would refuse the value.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tasks.programs import tools

MODULES = Path(__file__).resolve().parent.parent / "terraform" / "modules"

# What a module output the root reads stands for in the probe (never checked by a rule).
OUTPUTS: dict[str, object] = {
    "private_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "nat_public_ips": ["198.51.100.7"],
    "vpc_id": "vpc-0aaaaaaaaaaaaaaa1",
    "role_arn": "arn:aws:iam::123456789012:role/probe-deploy",
    "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/PROBE",
    "oidc_issuer_url": "https://oidc.eks.us-west-2.amazonaws.com/id/PROBE",
}
# Root variables set by the operator (TF_VAR_...), never rendered: valid stand-ins.
NOT_RENDERED: dict[str, object] = {
    "mongodbatlas_public_key": "probe",
    "mongodbatlas_private_key": "probe",
    "atlas_org_id": "0123456789abcdef01234567",
    "mongodb_password": "probe-password-1234",
    "rediscloud_api_key": "probe",
    "rediscloud_secret_key": "probe",
    "rediscloud_payment_method_id": "12345",
    "redis_password": "probe-password-1234",
}
_BLOCK = re.compile(r'^(?:provider|data) "[^\n]*(?:\{\}\n|\{\n(?:.*\n)*?\}\n)', re.MULTILINE)
_SOURCE = re.compile(r'source = "\.\./\.\./modules/([a-z0-9-]+)"')
_OUTPUT = re.compile(r"module\.([a-z_]+)\.([a-z_]+)")


@dataclass(frozen=True)
class Verdict:
    code: int
    out: str

    def refused(self) -> list[str]:
        """The variables Terraform refused (`var.vpc_cidr`), in its order."""
        return re.findall(r"Invalid value for variable.*?var\.([a-z_]+) is", self.out, re.DOTALL)


def probe(rendered: dict[str, str], folder: Path) -> Verdict:
    """Plan the rendered root (`{"main.tf": ..., "variables.tf": ..., "terraform.tfvars": ...}`)
    in `folder`, offline; exit code 0 when every validation holds."""
    folder.mkdir(parents=True)
    main = _BLOCK.sub("", rendered["main.tf"]).replace("data.aws_partition.current.partition", '"aws"')
    (folder / "main.tf").write_text(_SOURCE.sub(r'source = "./modules/\1"', main))
    (folder / "variables.tf").write_text(rendered["variables.tf"])
    (folder / "terraform.tfvars").write_text(rendered["terraform.tfvars"])
    wanted = {name for name in NOT_RENDERED if f'variable "{name}"' in rendered["variables.tf"]}
    (folder / "probe.auto.tfvars.json").write_text(json.dumps({k: NOT_RENDERED[k] for k in sorted(wanted)}))
    read: dict[str, set[str]] = {}
    for module, output in _OUTPUT.findall(main):
        read.setdefault(module, set()).add(output)
    for name in _SOURCE.findall(main):
        copy = folder / "modules" / name
        copy.mkdir(parents=True)
        shutil.copy(MODULES / name / "variables.tf", copy / "variables.tf")
        outputs = read.get(name.replace("-", "_"), set())
        (copy / "outputs.tf").write_text(
            "".join(f'output "{o}" {{\n  value = {json.dumps(OUTPUTS[o])}\n}}\n' for o in sorted(outputs))
        )
    env = {"TF_DATA_DIR": str(folder / ".data"), "TF_IN_AUTOMATION": "1"}
    init = tools.terraform(
        "init", "-input=false", "-no-color", "-backend=false", cwd=folder, env=env, check=False
    )
    if init.code != 0:
        return Verdict(init.code, init.stdout + init.stderr)
    plan = tools.terraform(
        "plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", cwd=folder, env=env, check=False
    )
    return Verdict(plan.code, plan.stdout + plan.stderr)
