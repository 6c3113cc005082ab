# Generated from templates/terraform/root/versions.tf.j2 by `doit render`. Do not edit.
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40.0"
    }
    tls = {
      source  = "hashicorp/tls"
      version = ">= 4.0.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl`
  # (backend.hcl is rendered from templates/terraform/backend.hcl.j2).
  backend "s3" {}
}
