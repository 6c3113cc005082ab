variable "name_prefix" {
  type        = string
  description = "Path every entry's name starts with, for example `myapp/prod`: entries are `<name_prefix>/<NAME>`."

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,400}$", var.name_prefix))
    error_message = "The `name_prefix` may hold only letters, digits and `/_+=.@-`."
  }
}

variable "entries" {
  type        = list(string)
  description = "Names of the entries (the stack's `secrets:`), for example `[\"DB_PASSWORD\"]`. Names only: values are set out of band."

  validation {
    condition     = alltrue([for e in var.entries : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", e))])
    error_message = "Each of `entries` must be an environment variable name (letters, digits, `_`)."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the entries, for example `us-west-2` (the key is used only through Secrets Manager there)."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The `region` must be an AWS region such as `us-west-2`."
  }
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the cluster's IAM OIDC provider (`module.eks.oidc_provider_arn`)."
}

variable "oidc_issuer_url" {
  type        = string
  description = "OIDC issuer URL of the cluster (`module.eks.oidc_issuer_url`)."
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the service account that may assume the role."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "The `namespace` must be a DNS-1123 label."
  }
}

variable "service_account" {
  type        = string
  description = "Name of the one service account whose tokens may assume the role (the SecretStore's)."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.service_account))
    error_message = "The `service_account` must be a DNS-1123 name."
  }
}

variable "role_name" {
  type        = string
  description = "Name of the IAM role, for example `myapp-prod-external-secrets`. 1 to 64 characters."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "The `role_name` must be 1 to 64 letters, digits or `+=,.@_-`."
  }
}

variable "recovery_window_in_days" {
  type        = number
  description = "Days a deleted entry can be restored (7 to 30)."
  default     = 30

  validation {
    condition     = var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30
    error_message = "The `recovery_window_in_days` must be from 7 to 30."
  }
}

variable "kms_deletion_window_in_days" {
  type        = number
  description = "Days before a scheduled deletion of the KMS key takes effect (7 to 30)."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "The `kms_deletion_window_in_days` must be from 7 to 30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
