terraform {
  required_version = ">= 1.6.0"

  required_providers {
    rediscloud = {
      source  = "RedisLabs/rediscloud"
      version = ">= 1.5.0"
    }
  }
}
