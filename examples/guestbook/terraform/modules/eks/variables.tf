variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster, for example `myapp-prod`. Letters, digits and hyphens; 1 to 100 characters, starting with a letter or digit."

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9-]{0,99}$", var.cluster_name))
    error_message = "The `cluster_name` must be 1 to 100 letters, digits or hyphens and start with a letter or digit."
  }
}

variable "cluster_version" {
  type        = string
  description = "Kubernetes minor version of the control plane, as `1.<minor>`; set per environment (`cloud.cluster_version`) to the `kubernetes_version` the manifests are validated against. Allowed values: `1.29` to `1.33`."

  validation {
    condition     = contains(["1.29", "1.30", "1.31", "1.32", "1.33"], var.cluster_version)
    error_message = "The `cluster_version` must be one of `1.29`, `1.30`, `1.31`, `1.32` or `1.33`."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnet IDs (`subnet-...`) for the control-plane network interfaces and the nodes; at least two, in different availability zones."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "The `subnet_ids` must list at least two subnets in different availability zones."
  }
}

variable "endpoint_private_access" {
  type        = bool
  description = "Allowed values: `true` (the API server is reachable from inside the VPC) or `false`."
  default     = true
}

variable "endpoint_public_access" {
  type        = bool
  description = "Allowed values: `true` (the API server has a public endpoint, limited to `public_access_cidrs`) or `false` (private endpoint only)."
  default     = true
}

variable "public_access_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed to reach the public API endpoint when `endpoint_public_access` is `true` (your office, VPN or CI egress). Valid IPv4 CIDRs, never a /0 nor blocks that together are the whole internet; may be empty only when `endpoint_public_access` is `false`."
  default     = []

  # public_cidr (tasks/config/fields.py, cloud.endpoint_public_cidrs) refuses a /0 at load time.
  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "Each entry of `public_access_cidrs` must be a valid IPv4 CIDR block narrower than /0."
  }

  # public_endpoint_cidrs_do_not_add_up_to_the_internet (tasks/config/rules/cloud_values.py) judges
  # the union the same way at load time.
  validation {
    condition     = try(sum(concat([0], [for c in distinct(var.public_access_cidrs) : pow(2, 32 - tonumber(split("/", c)[1]))])) < pow(2, 32), false)
    error_message = "The blocks of `public_access_cidrs` together must not be the whole internet (as `0.0.0.0/1` and `128.0.0.0/1` are)."
  }
}

variable "access_entries" {
  type = map(object({
    principal_arn = string
    policy        = string
    namespaces    = optional(list(string), [])
  }))
  description = "EKS access entries keyed by a short name: `principal_arn` (IAM role or user), `policy` (allowed values: `AmazonEKSClusterAdminPolicy`, `AmazonEKSAdminPolicy`, `AmazonEKSEditPolicy`, `AmazonEKSViewPolicy`) and optional `namespaces` (empty: the whole cluster). At least one entry must hold `AmazonEKSClusterAdminPolicy`: nobody else gets access, not even the identity that runs `terraform apply`."

  # cluster_admins_are_listed (tasks/config/rules/cloud_values.py) refuses an empty
  # cloud.access.admins at load time.
  validation {
    condition     = anytrue([for e in values(var.access_entries) : e.policy == "AmazonEKSClusterAdminPolicy"])
    error_message = "The `access_entries` must give at least one principal `AmazonEKSClusterAdminPolicy`, or nobody can administer the cluster."
  }

  validation {
    condition     = alltrue([for e in values(var.access_entries) : contains(["AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy"], e.policy)])
    error_message = "Each entry of `access_entries` must use `AmazonEKSClusterAdminPolicy`, `AmazonEKSAdminPolicy`, `AmazonEKSEditPolicy` or `AmazonEKSViewPolicy`."
  }

  # cluster_access_names_iam_roles_or_users (tasks/config/rules/cloud_values.py) refuses anything
  # else (an STS assumed-role session) at load time.
  validation {
    condition     = alltrue([for e in values(var.access_entries) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", e.principal_arn))])
    error_message = "Each `principal_arn` in `access_entries` must be an IAM role or user ARN."
  }
}

variable "enabled_log_types" {
  type        = list(string)
  description = "Control-plane log types sent to CloudWatch Logs. Allowed values (any subset, default all): `api`, `audit`, `authenticator`, `controllerManager`, `scheduler`."
  default     = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  validation {
    condition     = alltrue([for t in var.enabled_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "Each entry of `enabled_log_types` must be one of `api`, `audit`, `authenticator`, `controllerManager` or `scheduler`."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Days to keep control-plane logs. Allowed values: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (at least one year)."
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "The `log_retention_in_days` must be one of the CloudWatch Logs retention values of at least one year: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_deletion_window_in_days" {
  type        = number
  description = "Waiting period before the secrets-encryption KMS key is deleted. Allowed values: 7 to 30."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "The `kms_deletion_window_in_days` must be from 7 to 30."
  }
}

variable "node_groups" {
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size_gb   = optional(number, 50)
    labels         = optional(map(string), {})
  }))
  description = "Managed node groups keyed by name. Each has `instance_types` (list of EC2 types), `min_size` <= `desired_size` <= `max_size`, optional `capacity_type` (allowed values: `ON_DEMAND`, `SPOT`), `disk_size_gb` (20 to 1000, default 50) and `labels`."

  validation {
    condition     = length(var.node_groups) > 0
    error_message = "The `node_groups` must define at least one node group."
  }

  # node_count_is_ordered (tasks/config/rules/cloud.py) and a_node_group_has_room_for_a_node
  # (tasks/config/rules/cloud_values.py) refuse the same counts at load time.
  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.min_size >= 0 && g.min_size <= g.desired_size && g.desired_size <= g.max_size && g.max_size >= 1])
    error_message = "Each node group must satisfy 0 <= `min_size` <= `desired_size` <= `max_size` and `max_size` >= 1."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "Each node group's `capacity_type` must be `ON_DEMAND` or `SPOT`."
  }

  # node_instance_types_are_listed (tasks/config/rules/cloud_values.py) refuses an empty list at
  # load time.
  validation {
    condition     = alltrue([for g in values(var.node_groups) : length(g.instance_types) > 0 && g.disk_size_gb >= 20 && g.disk_size_gb <= 1000])
    error_message = "Each node group needs at least one entry in `instance_types` and a `disk_size_gb` from 20 to 1000."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Any map of string keys to string values; empty by default."
  default     = {}
}

variable "autoscaler_service_account" {
  type        = string
  description = "`<namespace>:<name>` of the Cluster Autoscaler's service account, the only one that may assume its role."
  default     = "kube-system:cluster-autoscaler"

  validation {
    condition     = can(regex("^[a-z0-9-]+:[a-z0-9.-]+$", var.autoscaler_service_account))
    error_message = "The `autoscaler_service_account` must be written as `namespace:name`."
  }
}
