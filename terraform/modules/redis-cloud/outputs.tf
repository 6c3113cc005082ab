output "subscription_id" {
  description = "ID of the Redis Cloud subscription."
  value       = rediscloud_subscription.this.id
}

output "database_id" {
  description = "ID of the database inside the subscription."
  value       = rediscloud_subscription_database.this.db_id
}

output "public_endpoint" {
  description = "Public `host:port` endpoint of the database (TLS, restricted to `source_ips`)."
  value       = rediscloud_subscription_database.this.public_endpoint
}

output "private_endpoint" {
  description = "Private `host:port` endpoint of the database, reachable once networking is peered."
  value       = rediscloud_subscription_database.this.private_endpoint
}
