# Generated from templates/terraform/backend.hcl.j2 by `doit render`. Do not edit.
# S3 backend of terraform/environments/dev: terraform init -backend-config=backend.hcl

bucket         = "srvthreds-tfstate-dev"
dynamodb_table = "srvthreds-tflock-dev"
encrypt        = true
key            = "srvthreds/dev/terraform.tfstate"
region         = "us-west-2"
