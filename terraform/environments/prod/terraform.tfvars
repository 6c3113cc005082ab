# Generated from templates/terraform/terraform.tfvars.j2 by `doit render`. Do not edit.
# Inputs of terraform/environments/prod from the `cloud:` block of environments/prod.yaml.
# Secrets are never rendered here: set TF_VAR_<name> (see variables.tf).

admin_arns                   = ["arn:aws:iam::123456789012:role/platform-admin"]
cluster_name                 = "srvthreds-prod"
cluster_version              = "1.33"
create_shared                = false
ecr_repositories             = ["srvthreds/bootstrap", "srvthreds/engine", "srvthreds/persistence-agent", "srvthreds/session-agent"]
endpoint_private             = true
endpoint_public_access_cidrs = []
entry_names                  = ["RABBITMQ_PASSWORD"]
environment                  = "prod"
github_repository            = "example-org/srvthreds"
mongodb_database_name        = "srvthreds"
mongodb_instance_size        = "M30"
mongodb_username             = "srvthreds"
node_desired_size            = 3
node_instance_types          = ["m5.large"]
node_max_size                = 6
node_min_size                = 3
namespace                    = "srvthreds"
project                      = "srvthreds"
protected                    = true
reader_arns                  = ["arn:aws:iam::123456789012:role/developer"]
redis_database_name          = "srvthreds"
redis_deployment_cidr        = "192.168.30.0/24"
region                       = "us-west-2"
registry                     = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
vpc_cidr                     = "10.30.0.0/16"
