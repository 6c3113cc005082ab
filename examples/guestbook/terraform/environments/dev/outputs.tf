# Generated from templates/terraform/root/outputs.tf.j2 by `doit render`. Do not edit.
output "vpc_id" {
  description = "ID of the VPC."
  value       = module.networking.vpc_id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets."
  value       = module.networking.private_subnet_ids
}

output "egress_ips" {
  description = "NAT egress addresses (as /32): what managed databases must allow."
  value       = local.egress_ips
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IRSA."
  value       = module.eks.oidc_provider_arn
}

output "external_secrets_role_arn" {
  description = "ARN of the IAM role the External Secrets Operator assumes as the SecretStore's service account."
  value       = module.secrets.role_arn
}

output "autoscaler_role_arn" {
  description = "ARN of the Cluster Autoscaler's IAM role (annotate its service account with it)."
  value       = module.eks.autoscaler_role_arn
}

output "registry" {
  description = "ECR registry host images are pulled from."
  value       = var.registry

  precondition {
    condition     = strcontains(var.registry, ".dkr.ecr.${var.region}.")
    error_message = "The `registry` must be an ECR registry in `region`; cross-region pulls are not configured."
  }
}

output "postgres_endpoint" {
  description = "`host:port` of the RDS PostgreSQL instance (TLS required; reachable from the VPC)."
  value       = module.rds_postgres.endpoint
}

output "postgres_master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the RDS master password."
  value       = module.rds_postgres.master_user_secret_arn
}

output "deploy_role_arn" {
  description = "IAM role the deploy workflow assumes through GitHub OIDC: set it as the `AWS_DEPLOY_ROLE_ARN` variable of the GitHub environment."
  value       = module.github_oidc.role_arn
}

output "ecr_repository_urls" {
  description = "ECR repository URLs keyed by name (empty where another environment creates them)."
  value       = var.create_shared ? module.ecr[0].repository_urls : {}
}
