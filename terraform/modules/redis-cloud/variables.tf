variable "subscription_name" {
  type        = string
  description = "Name of the Redis Cloud Pro subscription, for example `myapp-prod`. 1 to 40 characters."

  # The root names it <project>-<environment>: names_made_from_project_and_environment_fit
  # (tasks/config/rules/cloud_values.py) refuses a longer one at load time.
  validation {
    condition     = length(var.subscription_name) >= 1 && length(var.subscription_name) <= 40
    error_message = "The `subscription_name` must be 1 to 40 characters long."
  }
}

variable "payment_method" {
  type        = string
  description = "How the subscription is billed. Allowed values: `credit-card` (needs `payment_method_id`) or `marketplace` (AWS Marketplace)."
  default     = "credit-card"

  validation {
    condition     = contains(["credit-card", "marketplace"], var.payment_method)
    error_message = "The `payment_method` must be `credit-card` or `marketplace`."
  }
}

variable "payment_method_id" {
  type        = string
  description = "ID of the Redis Cloud payment method (card) to bill; required when `payment_method` is `credit-card`, otherwise `null` (the default)."
  default     = null
}

variable "region" {
  type        = string
  description = "AWS region of the subscription, for example `us-west-2`."

  # tasks/config/fields.py (cloud.region) refuses another form at load time.
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The `region` must be an AWS region name such as `us-west-2`."
  }
}

variable "multiple_availability_zones" {
  type        = bool
  description = "Allowed values: `true` (replicas spread over availability zones) or `false` (single zone)."
  default     = true
}

variable "deployment_cidr" {
  type        = string
  description = "Private /24 IPv4 CIDR that Redis Cloud deploys into; must not overlap the VPC (or any network it will be peered with)."

  # slash24 (tasks/config/fields.py, cloud.databases.<db>.deployment_cidr) refuses another block at
  # load time.
  validation {
    condition     = can(cidrhost(var.deployment_cidr, 0)) && endswith(var.deployment_cidr, "/24")
    error_message = "The `deployment_cidr` must be a valid IPv4 CIDR block of size /24."
  }
}

variable "database_name" {
  type        = string
  description = "Name of the database inside the subscription, for example `myapp`. Letters, digits and hyphens; 1 to 40 characters."

  # cloud_database_names_fit_their_module (tasks/config/rules/cloud.py) refuses another form at load
  # time.
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,39}$", var.database_name))
    error_message = "The `database_name` must be 1 to 40 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "dataset_size_in_gb" {
  type        = number
  description = "Maximum dataset size of the database in GB. Allowed values: 0.1 to 1000."
  default     = 1

  validation {
    condition     = var.dataset_size_in_gb >= 0.1 && var.dataset_size_in_gb <= 1000
    error_message = "The `dataset_size_in_gb` must be from 0.1 to 1000."
  }
}

variable "throughput_ops" {
  type        = number
  description = "Provisioned throughput in operations per second. Allowed values: 1000 to 1000000."
  default     = 10000

  validation {
    condition     = var.throughput_ops >= 1000 && var.throughput_ops <= 1000000
    error_message = "The `throughput_ops` must be from 1000 to 1000000."
  }
}

variable "replication" {
  type        = bool
  description = "Allowed values: `true` (in-memory replica for high availability) or `false`."
  default     = true
}

variable "data_persistence" {
  type        = string
  description = "Durability of the database. Allowed values: `none`, `aof-every-1-second`, `aof-every-write`, `snapshot-every-1-hour`, `snapshot-every-6-hours`, `snapshot-every-12-hours`."
  default     = "aof-every-1-second"

  validation {
    condition     = contains(["none", "aof-every-1-second", "aof-every-write", "snapshot-every-1-hour", "snapshot-every-6-hours", "snapshot-every-12-hours"], var.data_persistence)
    error_message = "The `data_persistence` must be one of `none`, `aof-every-1-second`, `aof-every-write`, `snapshot-every-1-hour`, `snapshot-every-6-hours` or `snapshot-every-12-hours`."
  }
}

variable "database_password" {
  type        = string
  description = "Password of the database's default user; supply it through `TF_VAR_...`, never a file. At least 12 characters."
  sensitive   = true

  validation {
    condition     = length(var.database_password) >= 12
    error_message = "The `database_password` must be at least 12 characters long."
  }
}

variable "source_ips" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed to connect to the database, typically the VPC NAT addresses as `/32`. Any list of valid IPv4 CIDRs except `0.0.0.0/0`; at least one entry."

  validation {
    condition     = length(var.source_ips) > 0 && alltrue([for c in var.source_ips : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "The `source_ips` must hold at least one valid IPv4 CIDR block, and `0.0.0.0/0` is not allowed."
  }
}
