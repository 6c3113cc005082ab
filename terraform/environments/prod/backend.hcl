# Generated from templates/terraform/backend.hcl.j2 by `doit render`. Do not edit.
# S3 backend of terraform/environments/prod: terraform init -backend-config=backend.hcl

bucket         = "srvthreds-tfstate-prod"
dynamodb_table = "srvthreds-tflock-prod"
encrypt        = true
key            = "srvthreds/prod/terraform.tfstate"
region         = "us-west-2"
