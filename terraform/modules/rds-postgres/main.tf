data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  family     = format("postgres%s", split(".", var.engine_version)[0])
}

################################################################################
# KMS key: storage, Performance Insights and the master password secret. Rotation is on.
################################################################################

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:KMS key policy: its resource `*` means this key only, and only the account administers it (RDS and Secrets Manager use it through grants).
  #checkov:skip=CKV_AWS_111:KMS key policy: its resource `*` means this key only, and only the account administers it (RDS and Secrets Manager use it through grants).
  #checkov:skip=CKV_AWS_356:KMS key policy: its resource `*` means this key only, and only the account administers it (RDS and Secrets Manager use it through grants).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts storage, Performance Insights and the master password of RDS instance ${var.identifier}"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/rds/${var.identifier}"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# Network: private subnets only, reachable on the PostgreSQL port from `allowed_cidrs`.
################################################################################

resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Private subnets of RDS instance ${var.identifier}"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.identifier}-postgres"
  description = "PostgreSQL clients of RDS instance ${var.identifier}"
  vpc_id      = var.vpc_id

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = each.value
}

################################################################################
# Parameters: TLS only, statement and slow-query logging.
################################################################################

resource "aws_db_parameter_group" "this" {
  name        = var.identifier
  family      = local.family
  description = "TLS-only, logged PostgreSQL of RDS instance ${var.identifier}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Enhanced monitoring role.
################################################################################

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

################################################################################
# The instance. The master password is made and rotated by RDS in Secrets Manager:
# it never passes through Terraform variables or state.
################################################################################

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ follows `multi_az`, which the root sets from the environment's `protected:` key: a protected environment gets a standby, others save its cost.
  #checkov:skip=CKV_AWS_293:Deletion protection follows `deletion_protection`, which the root sets from the environment's `protected:` key.
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.allocated_storage * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_name                             = var.database_name
  username                            = var.username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.this.arn
  iam_database_authentication_enabled = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
  monitoring_interval             = 60
  monitoring_role_arn             = aws_iam_role.monitoring.arn
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.this.arn

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.monitoring]
}
