variable "org_id" {
  type        = string
  description = "ID of the Atlas organization that owns the project: 24 hexadecimal characters."

  validation {
    condition     = can(regex("^[0-9a-f]{24}$", var.org_id))
    error_message = "The `org_id` must be a 24-character hexadecimal Atlas organization ID."
  }
}

variable "project_name" {
  type        = string
  description = "Name of the Atlas project to create, for example `myapp-prod`. 1 to 64 characters."

  validation {
    condition     = length(var.project_name) >= 1 && length(var.project_name) <= 64
    error_message = "The `project_name` must be 1 to 64 characters long."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the Atlas cluster. Letters, digits and hyphens; 1 to 64 characters."

  # The root names it <project>-<environment>: names_made_from_project_and_environment_fit
  # (tasks/config/rules/cloud_values.py) refuses a longer one at load time.
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$", var.cluster_name))
    error_message = "The `cluster_name` must be 1 to 64 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the cluster in AWS notation, for example `us-west-2`; converted to the Atlas notation (`US_WEST_2`)."

  # tasks/config/fields.py (cloud.region) refuses another form at load time.
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The `region` must be an AWS region name such as `us-west-2`."
  }
}

variable "instance_size" {
  type        = string
  description = "Atlas dedicated tier of each replica-set member. Allowed values: `M10`, `M20`, `M30`, `M40`, `M50`, `M60`, `M80`."
  default     = "M10"

  # tasks/config/fields.py (cloud.databases.<db>.instance_size, cloud_db.ATLAS_SIZES) refuses other
  # sizes at load time.
  validation {
    condition     = contains(["M10", "M20", "M30", "M40", "M50", "M60", "M80"], var.instance_size)
    error_message = "The `instance_size` must be one of `M10`, `M20`, `M30`, `M40`, `M50`, `M60` or `M80`."
  }
}

variable "node_count" {
  type        = number
  description = "Electable members of the replica set. Allowed values: 3, 5 or 7."
  default     = 3

  validation {
    condition     = contains([3, 5, 7], var.node_count)
    error_message = "The `node_count` must be 3, 5 or 7."
  }
}

variable "mongo_db_major_version" {
  type        = string
  description = "MongoDB major version. Allowed values: `6.0`, `7.0`, `8.0`."
  default     = "7.0"

  validation {
    condition     = contains(["6.0", "7.0", "8.0"], var.mongo_db_major_version)
    error_message = "The `mongo_db_major_version` must be one of `6.0`, `7.0` or `8.0`."
  }
}

variable "termination_protection" {
  type        = bool
  description = "Allowed values: `true` (Atlas refuses to delete the cluster) or `false`."
  default     = true
}

variable "database_name" {
  type        = string
  description = "Database the application user may read and write, for example `myapp`. 1 to 63 characters without `/\\. \"$`."

  # cloud_database_names_fit_their_module (tasks/config/rules/cloud.py) refuses, at load time, a
  # name outside a narrower form (1 to 40 letters, digits or '-').
  validation {
    condition     = can(regex("^[^/\\\\. \"$]{1,63}$", var.database_name))
    error_message = "The `database_name` must be 1 to 63 characters and must not contain `/`, `\\`, `.`, space, `\"` or `$`."
  }
}

variable "database_username" {
  type        = string
  description = "Name of the application database user (SCRAM authentication). 1 to 64 characters."

  # cloud_database_names_fit_their_module (tasks/config/rules/cloud.py) refuses, at load time, a
  # name outside a narrower form (1 to 40 letters, digits or '-').
  validation {
    condition     = length(var.database_username) >= 1 && length(var.database_username) <= 64
    error_message = "The `database_username` must be 1 to 64 characters long."
  }
}

variable "database_password" {
  type        = string
  description = "Password of the application database user; supply it through `TF_VAR_...`, never a file. At least 12 characters."
  sensitive   = true

  validation {
    condition     = length(var.database_password) >= 12
    error_message = "The `database_password` must be at least 12 characters long."
  }
}

variable "access_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed through the Atlas IP access list, typically the VPC NAT addresses as `/32`. Any list of valid IPv4 CIDRs except `0.0.0.0/0`."

  validation {
    condition     = alltrue([for c in var.access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "Every entry of `access_cidrs` must be a valid IPv4 CIDR block, and `0.0.0.0/0` is not allowed."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the cluster. Any map of string keys to string values; empty by default."
  default     = {}
}
