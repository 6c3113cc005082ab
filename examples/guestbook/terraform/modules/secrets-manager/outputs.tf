output "role_arn" {
  description = "ARN of the IAM role the SecretStore's service account assumes (its `eks.amazonaws.com/role-arn` annotation)."
  value       = aws_iam_role.reader.arn
}

output "entry_arns" {
  description = "ARNs of the Secrets Manager entries, keyed by name."
  value       = { for name, entry in aws_secretsmanager_secret.this : name => entry.arn }
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the entries."
  value       = aws_kms_key.this.arn
}
