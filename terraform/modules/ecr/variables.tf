variable "repositories" {
  type        = list(string)
  description = "Repository names, one per image the cluster runs, for example `[\"myapp/api\"]` (rendered from the stack's services; the builder image is never pushed). Lowercase letters, digits, `.`, `_`, `-` and `/`."

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r))])
    error_message = "The `repositories` must list at least one valid ECR repository name (lowercase, digits, `.`, `_`, `-`, `/`)."
  }
}

variable "untagged_expiry_days" {
  type        = number
  description = "Days after which untagged images (layers of failed or superseded pushes) are deleted. Allowed values: 1 to 365."
  default     = 14

  validation {
    condition     = var.untagged_expiry_days >= 1 && var.untagged_expiry_days <= 365
    error_message = "The `untagged_expiry_days` must be from 1 to 365."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer-managed KMS key that encrypts the images; `null` (default) uses the AWS-managed `aws/ecr` key."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The `kms_key_arn` must be a KMS key ARN or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every repository. Any map of string keys to string values; empty by default."
  default     = {}
}
