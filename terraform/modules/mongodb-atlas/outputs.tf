output "project_id" {
  description = "ID of the Atlas project."
  value       = mongodbatlas_project.this.id
}

output "cluster_id" {
  description = "ID of the Atlas cluster."
  value       = mongodbatlas_advanced_cluster.this.cluster_id
}

output "connection_string" {
  description = "Standard SRV connection string of the cluster (no credentials)."
  value       = mongodbatlas_advanced_cluster.this.connection_strings[0].standard_srv
}

output "database_username" {
  description = "Name of the application database user."
  value       = mongodbatlas_database_user.app.username
}
