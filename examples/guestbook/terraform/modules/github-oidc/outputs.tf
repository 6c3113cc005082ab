output "role_arn" {
  description = "ARN of the deploy role: the `role-to-assume` of `aws-actions/configure-aws-credentials` in the deploy workflow, and the principal of the cluster's deploy access entry."
  value       = aws_iam_role.deploy.arn
}

output "oidc_provider_arn" {
  description = "ARN of GitHub's OIDC provider in this account."
  value       = local.provider_arn
}
