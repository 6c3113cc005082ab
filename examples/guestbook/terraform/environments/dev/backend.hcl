# Generated from templates/terraform/backend.hcl.j2 by `doit render`. Do not edit.
# S3 backend of terraform/environments/dev: terraform init -backend-config=backend.hcl

bucket         = "guestbook-tfstate-dev"
dynamodb_table = "guestbook-tflock-dev"
encrypt        = true
key            = "guestbook/dev/terraform.tfstate"
region         = "us-west-2"
