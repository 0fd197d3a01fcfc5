"""Session lifetime enforced on the server: 30 idle minutes, 12 hours in all (configurable)."""
import json
import logging

import pytest

from tests.factories import login

MINUTE = 60


def shift(client, **seconds_back):
    """Move the session's timestamps into the past, as if time had passed."""
    with client.session_transaction() as s:
        for key, back in seconds_back.items():
            s[key] = s[key] - back


@pytest.fixture
def signed_in(client, world):
    login(client, world.alice)
    assert client.get("/account/").status_code == 200
    return client


def test_idle_session_ends_with_a_message(signed_in, caplog):
    caplog.set_level(logging.INFO, logger="wasteex.security")
    shift(signed_in, seen_at=31 * MINUTE)
    response = signed_in.get("/account/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "会话已过期" in page or "session has expired" in page
    assert signed_in.get("/account/").status_code == 302  # stays signed out
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "wasteex.security"]
    assert any(e["event"] == "session.expired" and e["reason"] == "idle" for e in events)


def test_activity_keeps_the_session_alive(signed_in):
    for _ in range(3):
        shift(signed_in, seen_at=25 * MINUTE, auth_at=25 * MINUTE)
        assert signed_in.get("/account/").status_code == 200


def test_absolute_lifetime_ends_even_an_active_session(signed_in):
    shift(signed_in, auth_at=12 * 60 * MINUTE + MINUTE)
    assert signed_in.get("/account/").status_code == 302


def test_lifetimes_are_configurable(app, signed_in):
    app.config["SESSION_IDLE_MINUTES"] = 5
    shift(signed_in, seen_at=4 * MINUTE)
    assert signed_in.get("/account/").status_code == 200
    shift(signed_in, seen_at=6 * MINUTE)
    assert signed_in.get("/account/").status_code == 302


def test_session_without_timestamps_is_refused(signed_in):
    with signed_in.session_transaction() as s:
        del s["auth_at"]
    assert signed_in.get("/account/").status_code == 302


def test_expired_cookie_session_on_the_api_is_a_401(signed_in):
    shift(signed_in, seen_at=31 * MINUTE)
    response = signed_in.get("/api/v1/me")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_language_choice_survives_expiry(signed_in):
    with signed_in.session_transaction() as s:
        s["lang"] = "en"
    shift(signed_in, seen_at=31 * MINUTE)
    signed_in.get("/account/")
    with signed_in.session_transaction() as s:
        assert s.get("lang") == "en" and "_user_id" not in s


def test_authenticated_and_account_pages_are_not_cached(client, world):
    assert client.get("/account/login").headers["Cache-Control"] == "no-store"
    login(client, world.alice)
    for path in ("/", "/account/", "/enterprises/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
