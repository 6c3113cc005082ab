# Generated from templates/terraform/terraform.tfvars.j2 by `doit render`. Do not edit.
# Inputs of terraform/environments/dev from the `cloud:` block of environments/dev.yaml.
# Secrets are never rendered here: set TF_VAR_<name> (see variables.tf).

admin_arns                   = ["arn:aws:iam::123456789012:role/platform-admin"]
cluster_name                 = "srvthreds-dev"
cluster_version              = "1.33"
create_shared                = true
ecr_repositories             = ["srvthreds/bootstrap", "srvthreds/engine", "srvthreds/persistence-agent", "srvthreds/session-agent"]
endpoint_private             = false
endpoint_public_access_cidrs = ["203.0.113.0/24"]
entry_names                  = ["RABBITMQ_PASSWORD"]
environment                  = "dev"
github_repository            = "example-org/srvthreds"
mongodb_database_name        = "srvthreds"
mongodb_instance_size        = "M10"
mongodb_username             = "srvthreds"
node_desired_size            = 2
node_instance_types          = ["t3.medium"]
node_max_size                = 3
node_min_size                = 1
namespace                    = "srvthreds"
project                      = "srvthreds"
protected                    = false
reader_arns                  = ["arn:aws:iam::123456789012:role/developer"]
redis_database_name          = "srvthreds"
redis_deployment_cidr        = "192.168.10.0/24"
region                       = "us-west-2"
registry                     = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
vpc_cidr                     = "10.10.0.0/16"
