output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate authority data of the cluster, for kubeconfig."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "ID of the security group EKS created for the control plane and nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider, for IAM roles for service accounts (IRSA)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer_url" {
  description = "OIDC issuer URL of the cluster."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts Kubernetes secrets and the control-plane log group."
  value       = aws_kms_key.this.arn
}

output "node_role_arn" {
  description = "ARN of the IAM role used by the managed nodes."
  value       = aws_iam_role.node.arn
}

output "node_group_names" {
  description = "Names of the managed node groups, keyed by the `node_groups` key."
  value       = { for k, g in aws_eks_node_group.this : k => g.node_group_name }
}

output "autoscaler_role_arn" {
  description = "ARN of the Cluster Autoscaler's IAM role (the `eks.amazonaws.com/role-arn` annotation of its service account)."
  value       = aws_iam_role.autoscaler.arn
}
