data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The issuer without its scheme: the prefix of the token's claim keys in IAM conditions.
  issuer = replace(var.oidc_issuer_url, "https://", "")
  # The one Kubernetes service account whose tokens may assume the role: the External Secrets
  # Operator's SecretStore of this namespace authenticates as it (no pod mounts it).
  subject = "system:serviceaccount:${var.namespace}:${var.service_account}"
}

################################################################################
# KMS key: encrypts every entry. Rotation is on.
################################################################################

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:KMS key policy: its resource `*` means this key only, and access is scoped by principal (the account, then the reader role through Secrets Manager only).
  #checkov:skip=CKV_AWS_111:KMS key policy: its resource `*` means this key only, and access is scoped by principal (the account, then the reader role through Secrets Manager only).
  #checkov:skip=CKV_AWS_356:KMS key policy: its resource `*` means this key only, and access is scoped by principal (the account, then the reader role through Secrets Manager only).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "ReaderDecryptsThroughSecretsManager"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.reader.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the Secrets Manager entries under ${var.name_prefix}/"
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}/secrets"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# The entries: names only. No aws_secretsmanager_secret_version: a value never
# passes through Terraform, so none is in its state or plan. Values are set out
# of band (`aws secretsmanager put-secret-value`, docs/operations.md).
################################################################################

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:Values are set out of band by their owners (database passwords, API keys) and rotated where they are issued; a rotation Lambda here would have to know every issuer.
  for_each = toset(var.entries)

  name                    = "${var.name_prefix}/${each.value}"
  description             = "${each.value} for ${var.namespace}; value set out of band, read by the External Secrets Operator"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = var.tags
}

################################################################################
# IRSA role: assumable only with a token of the one service account, read-only
# on these entries.
################################################################################

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [local.subject]
    }
  }
}

resource "aws_iam_role" "reader" {
  name               = var.role_name
  description        = "Read by the External Secrets Operator as ${local.subject}: the entries under ${var.name_prefix}/"
  assume_role_policy = data.aws_iam_policy_document.trust.json

  tags = var.tags
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadEntries"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [for entry in aws_secretsmanager_secret.this : entry.arn]
  }
}

resource "aws_iam_role_policy" "read" {
  count = length(var.entries) > 0 ? 1 : 0

  name   = "read-entries"
  role   = aws_iam_role.reader.id
  policy = data.aws_iam_policy_document.read.json
}
