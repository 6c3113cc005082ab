output "repository_urls" {
  description = "Repository URL (`<registry>/<name>`) keyed by repository name."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN keyed by repository name."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.arn }
}
