# Generated from templates/terraform/root/main.tf.j2 by `doit render`. Do not edit.
provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

provider "mongodbatlas" {
  public_key  = var.mongodbatlas_public_key
  private_key = var.mongodbatlas_private_key
}

provider "rediscloud" {
  api_key    = var.rediscloud_api_key
  secret_key = var.rediscloud_secret_key
}

locals {
  name       = "${var.project}-${var.environment}"
  is_prod    = var.environment == "prod"
  azs        = [for suffix in var.az_suffixes : "${var.region}${suffix}"]
  egress_ips = [for ip in module.networking.nat_public_ips : "${ip}/32"]

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
  single_nat_gateway = !local.is_prod
  cluster_name       = var.cluster_name
}

module "eks" {
  source = "../../modules/eks"

  cluster_name            = var.cluster_name
  vpc_id                  = module.networking.vpc_id
  subnet_ids              = module.networking.private_subnet_ids
  endpoint_private_access = true
  endpoint_public_access  = !var.endpoint_private
  public_access_cidrs     = var.endpoint_public_access_cidrs

  node_groups = {
    default = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_desired_size
    }
  }
}

module "mongodb_atlas" {
  source = "../../modules/mongodb-atlas"

  org_id                 = var.atlas_org_id
  project_name           = local.name
  cluster_name           = local.name
  region                 = var.region
  instance_size          = var.mongodb_instance_size
  termination_protection = local.is_prod
  database_username      = var.mongodb_username
  database_password      = var.mongodb_password
  access_cidrs           = local.egress_ips
  tags                   = local.tags
}

module "redis_cloud" {
  source = "../../modules/redis-cloud"

  subscription_name = local.name
  payment_method_id = var.rediscloud_payment_method_id
  region            = var.region
  deployment_cidr   = var.redis_deployment_cidr
  database_password = var.redis_password
  source_ips        = local.egress_ips
}
