# Generated from templates/terraform/root/variables.tf.j2 by `doit render`. Do not edit.
################################################################################
# Rendered into terraform.tfvars from the `cloud:` block of environments/<env>.yaml.
################################################################################

variable "project" {
  type        = string
  description = "Project name used as a prefix and tag, for example `myapp`. Lowercase letters, digits and hyphens."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.project))
    error_message = "The `project` must be 1 to 24 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the stack (`namespace` of environments/stack.yaml): its SecretStore's service account reads the secrets."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "The `namespace` must be a DNS-1123 label."
  }
}

variable "entry_names" {
  type        = list(string)
  description = "Names of the stack's `secrets:`: one AWS Secrets Manager entry each, `<project>/<environment>/<NAME>`. Names only; values are set out of band."
  default     = []
}

variable "environment" {
  type        = string
  description = "Environment name: the name of environments/<env>.yaml, for example `dev` or `qa`. Lowercase letters, digits and hyphens."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.environment))
    error_message = "The `environment` must be 1 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
  }
}

variable "protected" {
  type        = bool
  description = "Allowed values: `true` (from `protected: true` in environments/<env>.yaml: one NAT gateway per zone, deletion protection of managed databases) or `false` (one shared NAT gateway)."
  default     = false
}

variable "region" {
  type        = string
  description = "AWS region of every resource, for example `us-west-2`."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The `region` must be an AWS region name such as `us-west-2`."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster, for example `myapp-dev`."
}

variable "registry" {
  type        = string
  description = "ECR registry host the cluster pulls images from (`<account>.dkr.ecr.<region>.amazonaws.com`); must be in `region`."

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com$", var.registry))
    error_message = "The `registry` must be an ECR registry host of the form `<12-digit account>.dkr.ecr.<region>.amazonaws.com`."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the VPC, for example `10.10.0.0/16`."
}

variable "node_instance_types" {
  type        = list(string)
  description = "EC2 instance types of the default managed node group, for example `[\"t3.medium\"]`; at least one."

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "The `node_instance_types` must list at least one EC2 instance type."
  }
}

variable "node_min_size" {
  type        = number
  description = "Minimum number of nodes in the default node group; 0 or more and at most `node_desired_size`."
}

variable "node_max_size" {
  type        = number
  description = "Maximum number of nodes in the default node group; at least 1 and at least `node_desired_size`."
}

variable "node_desired_size" {
  type        = number
  description = "Initial number of nodes in the default node group, between `node_min_size` and `node_max_size`."
}

variable "cluster_version" {
  type        = string
  description = "Kubernetes minor version of the EKS control plane, for example `1.33` (from `cloud.cluster_version`; checked against `kubernetes_version` by the config loader)."

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.cluster_version))
    error_message = "The `cluster_version` must be a Kubernetes minor version such as `1.33`."
  }
}

variable "endpoint_public_access_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed to reach the public Kubernetes API endpoint (from `cloud.endpoint_public_cidrs`); unused when `endpoint_private` is `true`. Never a /0, nor blocks that together are the whole internet."

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "Each entry of `endpoint_public_access_cidrs` must be a valid IPv4 CIDR block narrower than /0."
  }

  validation {
    condition     = try(sum(concat([0], [for c in distinct(var.endpoint_public_access_cidrs) : pow(2, 32 - tonumber(split("/", c)[1]))])) < pow(2, 32), false)
    error_message = "The blocks of `endpoint_public_access_cidrs` together must not be the whole internet (as `0.0.0.0/1` and `128.0.0.0/1` are)."
  }
}

variable "admin_arns" {
  type        = list(string)
  description = "IAM role or user ARNs given cluster admin access (`AmazonEKSClusterAdminPolicy`), from `cloud.access.admins`; at least one."

  validation {
    condition     = length(var.admin_arns) > 0
    error_message = "The `admin_arns` must list at least one IAM principal, or nobody can administer the cluster."
  }

  validation {
    condition     = alltrue([for a in var.admin_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "Each entry of `admin_arns` must be an IAM role or user ARN."
  }
}

variable "reader_arns" {
  type        = list(string)
  description = "IAM role or user ARNs given read-only access (`AmazonEKSViewPolicy`), from `cloud.access.readers`; may be empty."
  default     = []

  validation {
    condition     = alltrue([for a in var.reader_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "Each entry of `reader_arns` must be an IAM role or user ARN."
  }
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (`owner/name`) whose deploy workflow may assume the deploy role, from `cloud.github.repository`."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$", var.github_repository)) && !endswith(var.github_repository, ".git") && !endswith(var.github_repository, "/.") && !endswith(var.github_repository, "/..")
    error_message = "The `github_repository` must be written as `owner/name`, as GitHub's tokens name it (no `.git`, no URL)."
  }
}

variable "create_shared" {
  type        = bool
  description = "Allowed values: `true` (this environment creates the account's shared resources: ECR repositories and GitHub's OIDC provider) or `false` (another environment of the same account does). From `cloud.create_shared`."
  default     = false
}

variable "ecr_repositories" {
  type        = list(string)
  description = "ECR repository names, one per image the cluster runs (rendered from the stack's services)."

  validation {
    condition     = length(var.ecr_repositories) > 0
    error_message = "The `ecr_repositories` must list at least one repository."
  }
}

variable "endpoint_private" {
  type        = bool
  description = "Allowed values: `true` (Kubernetes API reachable only from inside the VPC) or `false` (public endpoint as well)."
  default     = false
}

################################################################################
# Not rendered: set by the operator or CI. Secrets only through TF_VAR_<name>.
################################################################################

variable "az_suffixes" {
  type        = list(string)
  description = "Zone letters appended to `region` to pick the availability zones, for example `[\"a\", \"b\", \"c\"]`; 2 to 6 distinct letters."
  default     = ["a", "b", "c"]

  validation {
    condition     = length(var.az_suffixes) >= 2 && length(var.az_suffixes) <= 6 && alltrue([for s in var.az_suffixes : can(regex("^[a-z]$", s))])
    error_message = "The `az_suffixes` must list 2 to 6 single lowercase letters."
  }
}

variable "postgres_instance_class" {
  type        = string
  description = "RDS instance class of the PostgreSQL instance (from `instance_class` in `cloud.databases`), for example `db.t4g.micro`."
}

variable "postgres_storage_gb" {
  type        = number
  description = "Initial storage of the PostgreSQL instance in GiB (from `storage_gb` in `cloud.databases`; 20 by default)."
}

variable "postgres_username" {
  type        = string
  description = "Master user of the PostgreSQL instance (from `username` in `cloud.databases`; the project name by default); RDS keeps its password in Secrets Manager."
}

variable "postgres_database_name" {
  type        = string
  description = "Database created in the PostgreSQL instance (from `database_name` in `cloud.databases`; the project name by default)."
}
