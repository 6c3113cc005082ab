# Generated from templates/terraform/terraform.tfvars.j2 by `doit render`. Do not edit.
# Inputs of terraform/environments/staging from the `cloud:` block of environments/staging.yaml.
# Secrets are never rendered here: set TF_VAR_<name> (see variables.tf).

cluster_name          = "srvthreds-staging"
endpoint_private      = false
environment           = "staging"
mongodb_instance_size = "M10"
node_desired_size     = 2
node_instance_types   = ["t3.large"]
node_max_size         = 4
node_min_size         = 2
project               = "srvthreds"
redis_deployment_cidr = "192.168.20.0/24"
region                = "us-west-2"
registry              = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
vpc_cidr              = "10.20.0.0/16"
