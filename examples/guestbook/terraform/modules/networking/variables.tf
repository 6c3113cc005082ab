variable "name" {
  type        = string
  description = "Name prefix for every networking resource, for example `myapp-prod`. Lowercase letters, digits and hyphens; 1 to 48 characters."

  # The root names it <project>-<environment>: names_made_from_project_and_environment_fit
  # (tasks/config/rules/cloud_values.py) refuses a longer one at load time.
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,47}$", var.name))
    error_message = "The `name` must be 1 to 48 characters of lowercase letters, digits and hyphens, starting with a letter or digit."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the VPC, for example `10.30.0.0/16`. Any valid IPv4 CIDR with a prefix length from /16 to /24."

  # vpc_is_a_size_the_networking_module_takes (tasks/config/rules/cloud_values.py) refuses another
  # size at load time.
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "The `vpc_cidr` must be a valid IPv4 CIDR block with a prefix length between /16 and /24."
  }
}

variable "azs" {
  type        = list(string)
  description = "Availability zone names to place one public and one private subnet in, for example `[\"us-west-2a\", \"us-west-2b\", \"us-west-2c\"]`. Allowed: 2 to 6 distinct zone names of the provider's region."

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6 && length(distinct(var.azs)) == length(var.azs)
    error_message = "The `azs` must list 2 to 6 distinct availability zone names."
  }

  validation {
    condition     = alltrue([for z in var.azs : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", z))])
    error_message = "Every entry of `azs` must be an availability zone name such as `us-west-2a`."
  }
}

variable "subnet_newbits" {
  type        = number
  description = "Bits added to the VPC prefix to size each subnet (see `cidrsubnet`); for a /16 VPC, 4 gives /20 subnets. Allowed values: 1 to 8."
  default     = 4

  validation {
    condition     = var.subnet_newbits >= 1 && var.subnet_newbits <= 8 && floor(var.subnet_newbits) == var.subnet_newbits
    error_message = "The `subnet_newbits` must be a whole number from 1 to 8."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "Allowed values: `true` (one shared NAT gateway, cheaper, single-AZ egress) or `false` (one NAT gateway per availability zone, highly available)."
  default     = false
}

variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster that will use these subnets; used for the `kubernetes.io/cluster/<name>` discovery tags. Empty string (the default) adds no cluster tag."
  default     = ""
}

variable "flow_log_retention_in_days" {
  type        = number
  description = "Days to keep VPC flow log records in CloudWatch Logs. Allowed values: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (at least one year)."
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_in_days)
    error_message = "The `flow_log_retention_in_days` must be one of the CloudWatch Logs retention values of at least one year: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "flow_log_traffic_type" {
  type        = string
  description = "Which traffic the VPC flow log records. Allowed values: `ALL`, `ACCEPT` or `REJECT`."
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_log_traffic_type)
    error_message = "The `flow_log_traffic_type` must be one of `ALL`, `ACCEPT` or `REJECT`."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource. Any map of string keys to string values; empty by default."
  default     = {}
}
