"""Value checks of the `cloud:` block (tasks/config/cloud_fields.py), each alone."""

from __future__ import annotations

from tasks.config import cloud_fields


def test_a_public_cidr_is_a_real_block_never_the_whole_internet() -> None:
    assert (
        cloud_fields.public_cidr("203.0.113.0/24") is None and cloud_fields.public_cidr("10.0.0.0/8") is None
    )
    assert cloud_fields.public_cidr("0.0.0.0/0") == (
        "'0.0.0.0/0' opens the Kubernetes API to the whole internet",
        "list the CIDR blocks of your office, VPN or CI egress instead",
    )
    assert cloud_fields.public_cidr("10.0.0.300/8") == (
        "'10.0.0.300/8' is not an IPv4 CIDR block",
        "write it like '203.0.113.0/24'",
    )


def test_an_access_entry_is_an_iam_arn() -> None:
    assert cloud_fields.iam_arn("arn:aws:iam::123456789012:role/Admin") is None
    assert cloud_fields.iam_arn("arn:aws:sts::123456789012:assumed-role/a/b") is None
    assert cloud_fields.iam_arn("arn:aws:iam::12345:role/x") == (
        "'arn:aws:iam::12345:role/x' is not an IAM role or user ARN",
        "write it like 'arn:aws:iam::123456789012:role/Admin'",
    )


def test_a_redis_cloud_block_is_a_slash_24() -> None:
    assert cloud_fields.slash24("192.168.10.0/24") is None
    assert cloud_fields.slash24("10.1.0.0/16") == (
        "'10.1.0.0/16' is not a /24 block",
        "write it like 192.168.10.0/24",
    )
    bad = cloud_fields.slash24("10.1.0/24")
    assert bad is not None and "is not a valid IPv4 CIDR block" in bad[0]


def test_a_cluster_version_is_a_kubernetes_minor() -> None:
    assert cloud_fields.k8s_minor("1.33") is None
    assert cloud_fields.k8s_minor("1.33.0") == (
        "'1.33.0' is not a Kubernetes minor version",
        "write it like '1.33' (quoted)",
    )


def test_a_git_url_carries_no_credentials_and_the_refusal_does_not_show_them() -> None:
    for good in (
        "https://github.com/acme/shop.git",
        "ssh://git@github.com/acme/shop.git",
        "git@github.com:acme/shop.git",
        "https://github.com/acme/shop@v2.git",  # an '@' after the host is part of the path
    ):
        assert cloud_fields.git_url(good) is None, good
    bad = cloud_fields.git_url("https://bot:ghp_s3cret@github.com/acme/shop.git")
    assert bad is not None
    problem, fix = bad
    assert problem == (
        "'https://***@github.com/acme/shop.git' carries credentials (a user or token before '@'), "
        "and it is written into a committed file"
    )
    assert "ghp_s3cret" not in problem + fix and "bot" not in problem
    assert "repository Secret" in fix
    assert cloud_fields.git_url("https://ghp_s3cret@github.com/acme/shop.git") is not None
    assert cloud_fields.git_url("ftp://example.com/shop") == (
        "'ftp://example.com/shop' is not a valid Git repository URL",
        "write it like 'https://github.com/owner/name.git'",
    )
