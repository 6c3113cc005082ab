variable "identifier" {
  type        = string
  description = "Name of the RDS instance and prefix of its resources, for example `myapp-prod`. Lowercase letters, digits and hyphens; 1 to 48 characters, starting with a letter."

  # The root names it <project>-<environment>: names_made_from_project_and_environment_fit
  # (tasks/config/rules/cloud_values.py) refuses a longer one at load time.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,47}$", var.identifier)) && !endswith(var.identifier, "-")
    error_message = "The `identifier` must be 1 to 48 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC the instance lives in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnet IDs of the DB subnet group, in at least two availability zones."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "The `subnet_ids` must list at least two subnets (RDS needs two availability zones)."
  }
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed to reach PostgreSQL (normally the VPC); never a /0."

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "Each entry of `allowed_cidrs` must be a valid IPv4 CIDR block narrower than /0."
  }
}

variable "instance_class" {
  type        = string
  description = "RDS instance class, for example `db.t4g.micro` or `db.m6g.large`."

  # tasks/config/fields.py (cloud.databases.<db>.instance_class) refuses another form at load time.
  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "The `instance_class` must be an RDS instance class such as `db.t4g.micro`."
  }
}

variable "allocated_storage" {
  type        = number
  description = "Initial storage in GiB, 20 to 16384; storage autoscaling may grow it to four times as much."
  default     = 20

  # tasks/config/fields.py (cloud.databases.<db>.storage_gb) refuses another size at load time.
  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 16384
    error_message = "The `allocated_storage` must be between 20 and 16384 GiB."
  }
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL version: a major (`16`) or a major.minor (`16.4`). Allowed majors: `14`, `15`, `16`, `17`."
  default     = "16"

  validation {
    condition     = can(regex("^(14|15|16|17)(\\.[0-9]+)?$", var.engine_version))
    error_message = "The `engine_version` must be `14`, `15`, `16` or `17`, optionally with a minor version such as `16.4`."
  }
}

variable "database_name" {
  type        = string
  description = "Database created in the instance, for example `myapp`. Letters, digits and underscores; 1 to 63 characters, starting with a letter."

  # cloud_database_names_fit_their_module (tasks/config/rules/cloud.py) refuses another form at load
  # time.
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.database_name))
    error_message = "The `database_name` must be 1 to 63 letters, digits or underscores, starting with a letter."
  }
}

variable "username" {
  type        = string
  description = "Name of the master user, for example `myapp`; its password is kept by RDS in Secrets Manager. Letters, digits and underscores; 1 to 63 characters, starting with a letter; not a reserved name (`admin`, SQL reserved words)."

  # cloud_database_names_fit_their_module (tasks/config/rules/cloud.py) refuses another form at load
  # time.
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.username))
    error_message = "The `username` must be 1 to 63 letters, digits or underscores, starting with a letter."
  }

  # RDS for PostgreSQL refuses these as the master user name: its own roles and PostgreSQL's
  # reserved words (the_rds_user_is_not_reserved, tasks/config/rules/cloud_values.py, refuses
  # them at load time).
  validation {
    condition = !contains([
      "admin", "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
      "binary", "both", "case", "cast", "check", "collate", "collation", "column", "concurrently",
      "constraint", "create", "cross", "current_catalog", "current_date", "current_role", "current_schema",
      "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct",
      "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze", "from", "full",
      "grant", "group", "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
      "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
      "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing",
      "postgres_fdw", "primary", "rds_password", "rds_replication", "rds_superuser", "rdsadmin", "rdsrepladmin",
      "references", "returning", "right", "select", "session_user", "similar", "some", "symmetric",
      "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user",
      "using", "variadic", "verbose", "when", "where", "window", "with",
    ], lower(var.username))
    error_message = "The `username` must not be a name RDS for PostgreSQL reserves (such as `admin`, `rdsadmin` or an SQL reserved word like `user`)."
  }
}

variable "multi_az" {
  type        = bool
  description = "Allowed values: `true` (a synchronous standby in another availability zone) or `false`."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Allowed values: `true` (RDS refuses to delete the instance) or `false`."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days automated backups are kept, 7 to 35."
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "The `backup_retention_days` must be between 7 and 35."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
