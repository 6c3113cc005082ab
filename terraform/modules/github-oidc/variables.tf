variable "role_name" {
  type        = string
  description = "Name of the IAM role the deploy workflow assumes, for example `myapp-dev-deploy`. Letters, digits and `+=,.@_-`; 1 to 64 characters."

  # The root names it <project>-<environment>-deploy: names_made_from_project_and_environment_fit
  # (tasks/config/rules/cloud_values.py) refuses a longer one at load time.
  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "The `role_name` must be 1 to 64 letters, digits or `+=,.@_-`."
  }
}

variable "repository" {
  type        = string
  description = "GitHub repository (`owner/name`) whose workflows may assume the role (`cloud.github.repository`)."

  # the_github_repository_is_owner_and_name (tasks/config/rules/cloud_values.py) refuses the same
  # forms (`org/name.git`) at load time.
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$", var.repository)) && !endswith(var.repository, ".git") && !endswith(var.repository, "/.") && !endswith(var.repository, "/..")
    error_message = "The `repository` must be written as `owner/name`, as GitHub's tokens name it (no `.git`, no URL)."
  }
}

variable "github_environment" {
  type        = string
  description = "GitHub environment the deploy job runs in (`environment:` of the job, for example `dev`). Only tokens of jobs in this environment may assume the role, so its protection rules (reviewers for prod) gate every deploy."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.github_environment))
    error_message = "The `github_environment` must be a GitHub environment name (letters, digits, `_`, `.`, `-`)."
  }
}

variable "create_provider" {
  type        = bool
  description = "Allowed values: `true` (create GitHub's OIDC provider; an account has at most one) or `false` (use the one that already exists in the account)."
  default     = false
}

variable "ecr_repository_arns" {
  type        = list(string)
  description = "ARNs of the ECR repositories the workflow pushes to; at least one."

  validation {
    condition     = length(var.ecr_repository_arns) > 0 && alltrue([for a in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:", a))])
    error_message = "The `ecr_repository_arns` must list at least one ECR repository ARN."
  }
}

variable "cluster_arn" {
  type        = string
  description = "ARN of the EKS cluster the workflow deploys to (it may call `eks:DescribeCluster` on it for its kubeconfig)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:eks:", var.cluster_arn))
    error_message = "The `cluster_arn` must be an EKS cluster ARN."
  }
}

variable "max_session_duration" {
  type        = number
  description = "Longest session of the role in seconds. Allowed values: 3600 to 43200."
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "The `max_session_duration` must be from 3600 to 43200 seconds."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Any map of string keys to string values; empty by default."
  default     = {}
}
