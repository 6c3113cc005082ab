# Generated from templates/terraform/terraform.tfvars.j2 by `doit render`. Do not edit.
# Inputs of terraform/environments/dev from the `cloud:` block of environments/dev.yaml.
# Secrets are never rendered here: set TF_VAR_<name> (see variables.tf).

admin_arns                   = ["arn:aws:iam::123456789012:role/platform-admin"]
cluster_name                 = "guestbook-dev"
cluster_version              = "1.33"
create_shared                = true
ecr_repositories             = ["guestbook/api", "guestbook/migrate", "guestbook/worker"]
endpoint_private             = false
endpoint_public_access_cidrs = ["203.0.113.0/24"]
entry_names                  = ["POSTGRES_PASSWORD"]
environment                  = "dev"
github_repository            = "example-org/guestbook"
node_desired_size            = 2
node_instance_types          = ["t3.medium"]
node_max_size                = 3
node_min_size                = 1
postgres_database_name       = "guestbook"
postgres_instance_class      = "db.t4g.micro"
postgres_storage_gb          = 20
postgres_username            = "guestbook"
namespace                    = "guestbook"
project                      = "guestbook"
protected                    = false
reader_arns                  = ["arn:aws:iam::123456789012:role/developer"]
region                       = "us-west-2"
registry                     = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
vpc_cidr                     = "10.30.0.0/16"
