output "endpoint" {
  description = "`host:port` of the instance, reachable from `allowed_cidrs` (TLS required)."
  value       = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master password in."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "ID of the security group of the instance."
  value       = aws_security_group.this.id
}
