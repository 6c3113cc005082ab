# Generated from templates/terraform/root/main.tf.j2 by `doit render`. Do not edit.
provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  azs        = [for suffix in var.az_suffixes : "${var.region}${suffix}"]
  egress_ips = [for ip in module.networking.nat_public_ips : "${ip}/32"]
  # The registry host starts with the account ID; ARNs are built from it so the deploy
  # role can name repositories another environment's root created.
  account_id  = split(".", var.registry)[0]
  partition   = data.aws_partition.current.partition
  cluster_arn = "arn:${local.partition}:eks:${var.region}:${local.account_id}:cluster/${var.cluster_name}"
  ecr_arns    = [for r in var.ecr_repositories : "arn:${local.partition}:ecr:${var.region}:${local.account_id}:repository/${r}"]

  # EKS access entries, all from environments/<env>.yaml: nobody else gets access.
  access_entries = merge(
    { for arn in var.admin_arns : "admin:${arn}" => { principal_arn = arn, policy = "AmazonEKSClusterAdminPolicy" } },
    { for arn in var.reader_arns : "reader:${arn}" => { principal_arn = arn, policy = "AmazonEKSViewPolicy" } },
    # The deploy applies cluster-scoped objects (the Namespace) and everything in it;
    # the GitHub environment's protection rules gate who can run it.
    { deploy = { principal_arn = module.github_oidc.role_arn, policy = "AmazonEKSClusterAdminPolicy" } },
  )

  tags = {
    Environment = var.environment
    ManagedBy   = "terraform"
    Project     = var.project
  }
}

module "networking" {
  source = "../../modules/networking"

  name               = local.name
  vpc_cidr           = var.vpc_cidr
  azs                = local.azs
  single_nat_gateway = !var.protected
  cluster_name       = var.cluster_name
}

module "eks" {
  source = "../../modules/eks"

  cluster_name            = var.cluster_name
  cluster_version         = var.cluster_version
  subnet_ids              = module.networking.private_subnet_ids
  endpoint_private_access = true
  endpoint_public_access  = !var.endpoint_private
  public_access_cidrs     = var.endpoint_private ? [] : var.endpoint_public_access_cidrs
  access_entries          = local.access_entries
  tags                    = local.tags

  node_groups = {
    default = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_desired_size
    }
  }
}

# Repositories exist once per registry: the environment with `cloud.create_shared: true` makes them.
module "ecr" {
  source = "../../modules/ecr"
  count  = var.create_shared ? 1 : 0

  repositories = var.ecr_repositories
  tags         = local.tags
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  role_name           = "${local.name}-deploy"
  repository          = var.github_repository
  github_environment  = var.environment
  create_provider     = var.create_shared
  ecr_repository_arns = local.ecr_arns
  cluster_arn         = local.cluster_arn
  tags                = local.tags
}

# The stack's `secrets:` as AWS Secrets Manager entries (names only: values are set out of
# band) and the role the External Secrets Operator reads them with (docs/operations.md).
module "secrets" {
  source = "../../modules/secrets-manager"

  name_prefix       = "${var.project}/${var.environment}"
  entries           = var.entry_names
  region            = var.region
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer_url   = module.eks.oidc_issuer_url
  namespace         = var.namespace
  service_account   = "${var.project}-external-secrets"
  role_name         = "${local.name}-eso"
  tags              = local.tags
}

# postgres: chosen in `cloud.databases` of environments/<env>.yaml.
# Reachable from the VPC only; the master password stays in Secrets Manager.
module "rds_postgres" {
  source = "../../modules/rds-postgres"

  identifier          = local.name
  vpc_id              = module.networking.vpc_id
  subnet_ids          = module.networking.private_subnet_ids
  allowed_cidrs       = [var.vpc_cidr]
  instance_class      = var.postgres_instance_class
  allocated_storage   = var.postgres_storage_gb
  database_name       = var.postgres_database_name
  username            = var.postgres_username
  multi_az            = var.protected
  deletion_protection = var.protected
  tags                = local.tags
}
