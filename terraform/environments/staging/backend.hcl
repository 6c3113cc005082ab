# Generated from templates/terraform/backend.hcl.j2 by `doit render`. Do not edit.
# S3 backend of terraform/environments/staging: terraform init -backend-config=backend.hcl

bucket         = "srvthreds-tfstate-staging"
dynamodb_table = "srvthreds-tflock-staging"
encrypt        = true
key            = "srvthreds/staging/terraform.tfstate"
region         = "us-west-2"
