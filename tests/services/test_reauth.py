"""Re-authentication before sensitive acts: the service check, the decorator, the page, X-Reauth."""
import pytest
from flask import jsonify
from flask_login import current_user

from tests.factories import PASSWORD, login
from tests.second_factor import code, enrol, sign_in_with_code
from wasteex.accounts import service
from wasteex.accounts.reauth import (AuthEvidence, ReauthRefused, ReauthRequired, recent_auth_required,
                                     require_recent_auth)
from wasteex.accounts.session import now
from wasteex.extensions import db

MINUTE = 60


@pytest.fixture
def sensitive(app):
    """A page and an API endpoint standing in for transfer-slip signing."""

    @recent_auth_required(minutes=5)
    def sign_page():
        return "signed"

    def sign_api():
        if not current_user.is_authenticated:
            return app.login_manager.unauthorized()
        require_recent_auth(current_user._get_current_object(), 5)
        db.session.commit()  # the TOTP step of the proof is kept
        return jsonify(signed=True)

    app.add_url_rule("/test/sign", "test_sign", sign_page, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/test/sign", "test_sign_api", sign_api, methods=["POST"])
    return app


def test_service_check_with_explicit_evidence(app, world):
    alice = world.alice
    require_recent_auth(alice, 5, AuthEvidence(user_id=alice.id, reauth_at=now() - 4 * MINUTE))
    with pytest.raises(ReauthRequired):
        require_recent_auth(alice, 5, AuthEvidence(user_id=alice.id, reauth_at=now() - 6 * MINUTE))
    with pytest.raises(ReauthRequired):  # somebody else's recent sign-in proves nothing
        require_recent_auth(alice, 5, AuthEvidence(user_id=world.bob.id, reauth_at=now()))
    with pytest.raises(ReauthRequired):
        require_recent_auth(alice, 5, AuthEvidence())
    require_recent_auth(alice, 5, AuthEvidence(proof=PASSWORD))
    with pytest.raises(ReauthRefused):
        require_recent_auth(alice, 5, AuthEvidence(proof="not-the-password"))


def test_fresh_sign_in_counts_as_recent(client, world, sensitive):
    login(client, world.alice)
    assert client.get("/test/sign").get_data(as_text=True) == "signed"


def test_stale_session_goes_through_the_reauth_page_and_back(client, world, sensitive):
    login(client, world.alice)
    with client.session_transaction() as s:
        s["reauth_at"] -= 6 * MINUTE
    response = client.get("/test/sign?x=1")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/account/reauth" in location and "next=/test/sign?x%3D1" in location
    assert client.post(location, data={"password": "wrong-password-here"}).status_code == 401
    response = client.post(location, data={"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/test/sign?x=1")
    assert client.get("/test/sign").get_data(as_text=True) == "signed"


def test_a_post_returns_to_the_page_the_form_was_on(client, world, sensitive):
    login(client, world.alice)
    with client.session_transaction() as s:
        s["reauth_at"] -= 6 * MINUTE
    response = client.post("/test/sign", headers={"Referer": "http://localhost/enterprises/?page=2"})
    assert "next=/enterprises/?page%3D2" in response.headers["Location"]
    response = client.post("/test/sign", headers={"Referer": "https://evil.example/x"})
    assert "next=/" in response.headers["Location"] and "evil" not in response.headers["Location"]


def test_reauth_page_accepts_a_totp_code(client, world, sensitive):
    secret = enrol(world.alice)
    sign_in_with_code(client, world.alice, secret, PASSWORD)
    with client.session_transaction() as s:
        s["reauth_at"] -= 6 * MINUTE
    location = client.get("/test/sign").headers["Location"]
    assert client.post(location, data={"code": code(secret, +1)}).status_code == 302
    assert client.get("/test/sign").get_data(as_text=True) == "signed"


def test_reauth_page_refuses_open_redirects(client, world):
    login(client, world.alice)
    response = client.post("/account/reauth?next=https://evil.example/", data={"password": PASSWORD})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_api_with_bearer_needs_x_reauth(client, world, sensitive):
    _, token = service.issue_token(world.alice, "ci")
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/test/sign", headers=bearer)
    assert response.status_code == 401 and response.json["error"]["code"] == "reauth_required"
    response = client.post("/api/v1/test/sign", headers={**bearer, "X-Reauth": "wrong-password-here"})
    assert response.status_code == 401 and response.json["error"]["code"] == "reauth_failed"
    response = client.post("/api/v1/test/sign", headers={**bearer, "X-Reauth": PASSWORD})
    assert response.status_code == 200 and response.json == {"signed": True}


def test_api_x_reauth_totp_code_is_single_use(client, world, sensitive):
    secret = enrol(world.alice)
    _, token = service.issue_token(world.alice, "ci", second_factor=True)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}", "X-Reauth": code(secret)}
    assert client.post("/api/v1/test/sign", headers=headers).status_code == 200
    response = client.post("/api/v1/test/sign", headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "reauth_failed"


def test_wrong_x_reauth_passwords_are_throttled(client, world, sensitive):
    _, token = service.issue_token(world.alice, "ci")
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(5):
        client.post("/api/v1/test/sign", headers={**bearer, "X-Reauth": "wrong-password-here"})
    response = client.post("/api/v1/test/sign", headers={**bearer, "X-Reauth": PASSWORD})
    assert response.status_code == 429
