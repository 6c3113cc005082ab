"""Provider-free Terraform roots for tests that run the real (embedded) Terraform offline:
the built-in `terraform_data` resource and the `local-exec` provisioner make slow, failing or
successful runs without a network."""

from __future__ import annotations

import os
from pathlib import Path

from tasks.programs import tools


def resource(command: str) -> str:
    """One `terraform_data` resource whose create runs `command` (local-exec)."""
    return (
        'resource "terraform_data" "step" {\n'
        '  provisioner "local-exec" {\n'
        f'    command = "{command}"\n'
        "  }\n}\n"
    )


def tf_dir(tmp_path: Path, command: str) -> Path:
    """An initialised root folder under `tmp_path` (its TF_DATA_DIR is `<folder>/.data`)."""
    folder = tmp_path / "tf"
    folder.mkdir()
    (folder / "main.tf").write_text(resource(command))
    tools.terraform(
        "init", "-input=false", "-no-color", cwd=folder, env={"TF_DATA_DIR": str(folder / ".data")}
    )
    return folder


def env_root(project: Path, command: str) -> Path:
    """terraform/environments/dev of a project copy replaced by a provider-free root (no backend block)."""
    folder = project / "terraform/environments/dev"
    for old in folder.iterdir():
        old.unlink()
    (folder / "main.tf").write_text(resource(command))
    (folder / "backend.hcl").write_text("# local state: no backend block\n")
    return folder


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def partial_tree(root: Path) -> Path:
    """modules: one needing aws (absent from the mirror), one built-in only, one broken."""
    tree = root / "terraform"
    files = {
        "modules/needs-aws/versions.tf": "terraform {\n  required_providers {\n    aws = {\n"
        '      source  = "hashicorp/aws"\n      version = ">= 5.0"\n    }\n  }\n}\n',
        "modules/needs-aws/main.tf": 'resource "aws_s3_bucket" "b" {}\n',
        "modules/builtin/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "modules/builtin/main.tf": 'resource "terraform_data" "x" {\n  input = "ok"\n}\n',
        "modules/broken/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "modules/broken/main.tf": 'resource "terraform_data" "x" {\n  input = var.undeclared\n}\n',
        "environments/dev/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "environments/dev/main.tf": 'module "b" {\n  source = "../../modules/builtin"\n}\n',
    }
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    return tree
