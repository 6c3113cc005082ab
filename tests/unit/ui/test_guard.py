"""tasks/ui/guard.py: which Host, Origin and token a request may carry."""

from __future__ import annotations

from tasks.ui.guard import TOKEN_HEADER, Guard, is_loopback

LOCAL = Guard("127.0.0.1", 10360, "tok")


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_the_pages_own_host_passes_and_a_rebinding_name_does_not() -> None:
    assert LOCAL.refusal("GET", {"host": "127.0.0.1:10360"}, None) is None
    assert LOCAL.refusal("GET", {"host": "localhost:10360"}, None) is None
    assert LOCAL.refusal("GET", {"host": "attacker.example:10360"}, None) == "foreign Host"
    assert LOCAL.refusal("GET", {"host": "127.0.0.1:9999"}, None) == "foreign Host"


def test_a_post_needs_its_own_origin_and_the_token() -> None:
    own = {"host": "127.0.0.1:10360", "origin": "http://127.0.0.1:10360", TOKEN_HEADER: "tok"}
    assert LOCAL.refusal("POST", own, None) is None
    assert LOCAL.refusal("POST", {**own, "origin": "http://evil.example"}, None) == "foreign Origin"
    assert LOCAL.refusal("POST", {**own, TOKEN_HEADER: "nope"}, None) == "missing or wrong token"
    assert LOCAL.refusal("POST", {"host": "127.0.0.1:10360"}, "tok") == "missing or wrong token"


def test_off_loopback_every_request_needs_the_token() -> None:
    lan = Guard("192.168.1.5", 10360, "tok")
    assert lan.refusal("GET", {"host": "192.168.1.5:10360"}, None) == "missing or wrong token"
    assert lan.refusal("GET", {"host": "192.168.1.5:10360"}, "tok") is None
    assert lan.refusal("GET", {"host": "localhost:10360"}, "tok") == "foreign Host"


def test_off_loopback_the_pages_own_assets_need_no_token_and_its_data_does() -> None:
    lan = Guard("192.168.1.5", 10360, "tok")
    own = {"host": "192.168.1.5:10360"}
    assert lan.refusal("GET", own, None, "/static/app.js") is None
    assert lan.refusal("GET", own, None, "/static/style.css") is None
    for path in ("/", "/api/state", "/api/events", "/staticx"):
        assert lan.refusal("GET", own, None, path) == "missing or wrong token", path
    assert lan.refusal("POST", own, None, "/static/app.js") == "missing or wrong token"


def test_a_loopback_address_of_its_own_is_the_pages_host() -> None:
    other = Guard("127.0.0.2", 10360, "tok")
    assert other.refusal("GET", {"host": "127.0.0.2:10360"}, None) is None
    assert other.refusal("GET", {"host": "127.0.0.3:10360"}, None) == "foreign Host"
