"""The security log at work: events are written where they happen, and never with a secret."""
import json
import logging

import pytest

from tests.factories import PASSWORD, make_enterprise, make_user
from tests.second_factor import code, enrol
from tests.web.pages import csrf_token
from wasteex.accounts import service
from wasteex.extensions import db

WRONG_PASSWORD = "Wrong-Password-7d1f0e"


@pytest.fixture
def security_lines(caplog):
    caplog.set_level(logging.INFO, logger="wasteex.security")

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "wasteex.security"]

    return lines


def events(lines):
    return [json.loads(line) for line in lines]


def test_no_secret_reaches_the_log(csrf_app, security_lines):
    alice = make_user("alice@a.cn")
    make_enterprise(alice)
    totp_secret = enrol(make_user("reg@gov.cn"))
    client = csrf_app.test_client()

    # 1. A wrong password, then one typed into the e-mail field.
    token = csrf_token(client, "/account/login")
    assert client.post("/account/login", data={"email": alice.email, "password": WRONG_PASSWORD,
                                                "csrf_token": token}).status_code == 401
    client.post("/account/login", data={"email": PASSWORD, "password": WRONG_PASSWORD, "csrf_token": token})

    # 2. A real sign-in, then a CSRF failure with a forged token on a signed-in session.
    assert client.post("/account/login", data={"email": alice.email, "password": PASSWORD,
                                               "csrf_token": token}).status_code == 302
    real_csrf = csrf_token(client, "/account/")
    forged = "forged-" + real_csrf[::-1]
    assert client.post("/account/logout", data={"csrf_token": forged}).status_code == 400
    session_cookie = client.get_cookie("session").value

    # 3. A token created on the page, used, a bogus one refused, then revoked.
    page = client.post("/account/tokens", data={"name": "ci", "csrf_token": real_csrf}).get_data(as_text=True)
    secret = page.split('id="new-token">')[1].split("<")[0]
    api = csrf_app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    bogus = "wx_" + "B" * 43
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {bogus}"}).status_code == 401
    token_id = service.list_tokens(alice)[0].id
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": real_csrf})

    # 4. TOTP: a wrong code, then the right one.
    other = csrf_app.test_client()
    login_token = csrf_token(other, "/account/login")
    other.post("/account/login", data={"email": "reg@gov.cn", "password": PASSWORD, "csrf_token": login_token})
    code_token = csrf_token(other, "/account/login/code")
    right = code(totp_secret)
    wrong = "000000" if right != "000000" else "111111"
    assert other.post("/account/login/code", data={"code": wrong, "csrf_token": code_token}).status_code == 401
    assert other.post("/account/login/code", data={"code": right, "csrf_token": code_token}).status_code == 302

    lines = security_lines()
    text = "\n".join(lines)
    for needle in (PASSWORD, WRONG_PASSWORD, real_csrf, forged, session_cookie, secret, secret[3:13], bogus,
                   totp_secret, right, wrong):
        assert needle not in text, needle
    names = [e["event"] for e in events(lines)]
    for expected in ("login.failure", "login.success", "csrf.failure", "token.created", "token.rejected",
                     "token.revoked", "totp.failure"):
        assert expected in names, expected
    failure = next(e for e in events(lines) if e["event"] == "login.failure")
    assert failure["user_id"] == alice.id and failure["ip"] == "127.0.0.1" and failure["route"] == "/account/login"
    csrf = next(e for e in events(lines) if e["event"] == "csrf.failure")
    assert csrf["user_id"] == alice.id and csrf["outcome"] == "denied"


def test_denied_access_is_logged_with_the_enterprise(client, world, security_lines):
    client.post("/account/login", data={"email": world.alice.email, "password": PASSWORD})
    response = client.get(f"/enterprises/{world.b.id}/edit")
    assert response.status_code == 403
    denied = [e for e in events(security_lines()) if e["event"] == "access.denied"]
    assert denied and denied[-1]["user_id"] == world.alice.id and denied[-1]["enterprise_id"] == world.b.id


def test_api_validation_failures_log_field_names_not_values(client, world, security_lines):
    _, token = service.issue_token(world.alice, "ci")
    db.session.commit()
    response = client.patch(f"/api/v1/sites/{world.site_a.id}", json={"latitude": "not-a-number-xyz"},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    failures = [e for e in events(security_lines()) if e["event"] == "validation.failure"]
    assert failures and "latitude" in failures[-1]["fields"]
    assert "not-a-number-xyz" not in "\n".join(security_lines())
