"""Webhook signatures, back-off and target vetting: the pure part, no app."""
import hashlib
import hmac

import pytest

from wasteex.notifications import webhooks

SECRET = "whsec_test-secret"
BODY = '{"kind":"proposal_received","subject":"新的撮合建议"}'.encode()
NOW = 1_764_400_000


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    header = webhooks.signature_header(SECRET, BODY, now=NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert webhooks.verify(SECRET, header, BODY, now=NOW + 10)


@pytest.mark.parametrize("change", [
    lambda h, b, s: (h, b + b" ", s),  # body changed
    lambda h, b, s: (h, b, s + "x"),  # another secret
    lambda h, b, s: (h.replace(f"t={NOW}", f"t={NOW + 1}"), b, s),  # timestamp moved
    lambda h, b, s: (h.split(",")[1], b, s),  # no timestamp
    lambda h, b, s: (h.split(",")[0], b, s),  # no signature
    lambda h, b, s: ("", b, s),
    lambda h, b, s: (h.replace("v1=", "v0="), b, s),  # unknown scheme only
])
def test_a_changed_body_secret_or_header_does_not_verify(change):
    header, body, secret = change(webhooks.signature_header(SECRET, BODY, now=NOW), BODY, SECRET)
    assert not webhooks.verify(secret, header, body, now=NOW)


def test_an_old_signature_is_refused_as_a_replay():
    header = webhooks.signature_header(SECRET, BODY, now=NOW)
    assert webhooks.verify(SECRET, header, BODY, now=NOW + webhooks.TOLERANCE_SECONDS)
    assert not webhooks.verify(SECRET, header, BODY, now=NOW + webhooks.TOLERANCE_SECONDS + 1)


def test_new_secrets_are_long_random_and_prefixed():
    secrets = {webhooks.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) >= 48 for s in secrets)


def test_back_off_doubles_from_the_base_and_is_capped():
    delays = [webhooks.retry_delay(n, 30, 3600) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/hook", "Use an http:// or https:// URL."),
    ("javascript:alert(1)", "Use an http:// or https:// URL."),
    ("https:///path", "The URL has no host."),
    ("https://user:pw@example.com/", "Put no user name or password in the URL; the signature authenticates WasteEx."),
    ("https://example.com:99999/", "The URL is not valid."),
    ("https://example.com/#top", "A webhook URL has no #fragment."),
])
def test_malformed_targets_are_refused_with_a_reason(url, message):
    with pytest.raises(webhooks.TargetRefused) as refused:
        webhooks.parse_target(url)
    assert str(refused.value) == message


def test_a_target_keeps_its_path_query_and_default_port():
    target = webhooks.parse_target("https://erp.example.cn/hooks/wasteex?tenant=7")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https", "erp.example.cn", 443, "/hooks/wasteex?tenant=7")
    assert webhooks.parse_target("http://erp.example.cn").path == "/"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_private_loopback_and_reserved_addresses_are_not_public(address):
    assert not webhooks.is_public(address)


@pytest.mark.parametrize("address", ["1.1.1.1", "114.114.114.114", "2400:3200::1"])
def test_public_addresses_are_public(address):
    assert webhooks.is_public(address)


def test_loopback_targets_are_refused_unless_allowed():
    with pytest.raises(webhooks.TargetRefused, match="private, loopback"):
        webhooks.check_url("http://127.0.0.1:8080/hook", allow_private=False)
    with pytest.raises(webhooks.TargetRefused, match="private, loopback"):
        webhooks.check_url("http://localhost/hook", allow_private=False)
    assert webhooks.check_url(" http://127.0.0.1:8080/hook ", allow_private=True) == "http://127.0.0.1:8080/hook"


def test_a_refused_target_is_a_failed_call_not_an_exception():
    outcome = webhooks.post("http://127.0.0.1:9/hook", b"{}", {}, timeout=1, allow_private=False)
    assert not outcome.ok and outcome.status is None and "private" in outcome.error
