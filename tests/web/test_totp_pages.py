"""TOTP second factor through the pages: enrolment, sign-in with a code, enforcement, tokens."""
import re

import pytest

from tests.factories import PASSWORD, login
from tests.second_factor import code, enforce, enrol, sign_in_with_code, stored_secret
from wasteex.accounts import service
from wasteex.accounts.models import User
from wasteex.extensions import db

SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def reload(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.fixture
def enforced(app):
    enforce(app)
    return app


def test_regulator_without_totp_is_sent_to_enrolment_and_kept_there(client, world, enforced):
    response = login(client, world.regulator)
    assert response.status_code == 302 and "/account/totp" in response.headers["Location"]
    for path in ("/", "/enterprises/", "/account/", f"/enterprises/{world.a.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/account/totp" in response.headers["Location"], path
    response = client.get("/api/v1/me")
    assert response.status_code == 403 and response.json["error"]["code"] == "second_factor_required"
    assert client.get("/account/totp").status_code == 200
    assert client.post("/account/logout").status_code == 302


def test_bearer_tokens_are_not_affected_by_enforcement(client, world, enforced):
    _, secret = service.issue_token(world.regulator, "issued before", second_factor=True)
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_enrolment_shows_the_secret_once_then_never_again(client, world, enforced):
    login(client, world.admin)
    page = client.get("/account/totp").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml' in page and "otpauth://totp/WasteEx:admin%40wasteex.cn" in page
    assert secret in client.get("/account/totp").get_data(as_text=True).replace(" ", "")  # same secret on reload
    stored = reload(world.admin).totp_secret
    assert stored and secret not in stored  # encrypted at rest

    response = client.post("/account/totp", data={"code": "000000" if code(secret) != "000000" else "111111"})
    assert response.status_code == 401 and reload(world.admin).totp_enabled_at is None

    response = client.post("/account/totp?next=/enterprises/", data={"code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprises/")
    assert reload(world.admin).totp_enabled
    assert client.get("/enterprises/").status_code == 200  # the gate is open now
    page = client.get("/account/totp").get_data(as_text=True)
    assert secret not in page.replace(" ", "") and "totp-secret" not in page and "otpauth" not in page
    assert stored_secret(world.admin) == secret


def test_enrolment_signs_out_other_sessions(app, world, enforced):
    other, here = app.test_client(), app.test_client()
    login(other, world.admin)
    login(here, world.admin)
    page = here.get("/account/totp").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert here.post("/account/totp", data={"code": code(secret)}).status_code == 302
    assert here.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302  # revoked


def test_sign_in_asks_for_the_code_after_the_password(client, world, enforced):
    secret = enrol(world.regulator)
    response = login(client, world.regulator)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login/code")
    assert client.get("/account/").status_code == 302  # not signed in between the two steps
    assert client.get("/api/v1/me").status_code == 401
    wrong = "123456" if code(secret) != "123456" else "654321"
    response = client.post("/account/login/code", data={"code": wrong})
    assert response.status_code == 401
    response = client.post("/account/login/code", data={"code": code(secret)})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200


def test_sign_in_keeps_next_through_the_code_step(client, world, enforced):
    secret = enrol(world.regulator)
    client.post("/account/login?next=/enterprises/", data={"email": world.regulator.email, "password": PASSWORD})
    response = client.post("/account/login/code", data={"code": code(secret)})
    assert response.headers["Location"].endswith("/enterprises/")


def test_a_code_cannot_be_replayed(app, world, enforced):
    secret = enrol(world.regulator)
    used = code(secret)
    first = app.test_client()
    login(first, world.regulator)
    assert first.post("/account/login/code", data={"code": used}).status_code == 302
    second = app.test_client()
    login(second, world.regulator)
    assert second.post("/account/login/code", data={"code": used}).status_code == 401
    assert second.post("/account/login/code", data={"code": code(secret, +1)}).status_code == 302


def test_previous_step_accepted_two_steps_back_refused(app, world, enforced):
    secret = enrol(world.regulator)
    client = app.test_client()
    login(client, world.regulator)
    assert client.post("/account/login/code", data={"code": code(secret, -3)}).status_code == 401
    assert client.post("/account/login/code", data={"code": code(secret, -1)}).status_code == 302


def test_wrong_codes_are_throttled(client, world, enforced):
    secret = enrol(world.regulator)
    login(client, world.regulator)
    right = code(secret)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        assert client.post("/account/login/code", data={"code": wrong}).status_code == 401
    response = client.post("/account/login/code", data={"code": right})
    assert response.status_code == 429
    assert client.get("/account/").status_code == 302


def test_the_code_step_expires(app, client, world, enforced):
    secret = enrol(world.regulator)
    login(client, world.regulator)
    with client.session_transaction() as s:
        pending = dict(s["pending_totp"])
        pending["at"] -= app.config["TOTP_LOGIN_PENDING_SECONDS"] + 1
        s["pending_totp"] = pending
    response = client.post("/account/login/code", data={"code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    assert client.get("/account/").status_code == 302


def test_password_alone_gets_no_api_token_for_a_totp_account(client, world, enforced):
    secret = enrol(world.regulator)
    response = client.post("/api/v1/auth/token", json={"email": world.regulator.email, "password": PASSWORD})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    # A session that passed TOTP may create one on the account page.
    sign_in_with_code(client, world.regulator, secret, PASSWORD)
    response = client.post("/account/tokens", data={"name": "dashboard"})
    assert response.status_code == 200 and 'id="new-token"' in response.get_data(as_text=True)


def test_enterprise_users_are_not_asked_unless_they_enrol(app, client, world, enforced):
    response = login(client, world.alice)
    assert response.status_code == 302 and "/account/totp" not in response.headers["Location"]
    client.post("/account/logout")
    secret = enrol(world.alice)  # voluntary enrolment: then the code is asked too
    response = login(client, world.alice)
    assert response.headers["Location"].endswith("/account/login/code")
    assert client.post("/account/login/code", data={"code": code(secret)}).status_code == 302
    # Alice's role does not require it: she may turn it off with a current code.
    assert client.post("/account/totp/disable", data={"code": code(secret, +1)}).status_code == 302
    assert not reload(world.alice).totp_enabled


def test_required_roles_cannot_turn_totp_off(client, world, enforced):
    secret = enrol(world.regulator)
    sign_in_with_code(client, world.regulator, secret, PASSWORD)
    client.post("/account/totp/disable", data={"code": code(secret, +1)})
    assert reload(world.regulator).totp_enabled


def test_platform_admin_resets_a_lost_authenticator(app, world, enforced):
    admin_secret = enrol(world.admin)
    enrol(world.regulator)
    victim = app.test_client()
    admin = app.test_client()
    sign_in_with_code(admin, world.admin, admin_secret, PASSWORD)
    assert f"/admin/users/{world.regulator.id}/totp/reset" in admin.get("/admin/users").get_data(as_text=True)
    response = admin.post(f"/admin/users/{world.regulator.id}/totp/reset")
    assert response.status_code == 302
    regulator = reload(world.regulator)
    assert not regulator.totp_enabled and regulator.totp_secret is None
    response = login(victim, regulator)
    assert "/account/totp" in response.headers["Location"]  # enrols again


def test_only_platform_admins_reset_totp(client, world):
    enrol(world.regulator)
    login(client, world.alice)
    assert client.post(f"/admin/users/{world.regulator.id}/totp/reset").status_code == 403
    assert reload(world.regulator).totp_enabled


def test_enforcement_is_off_in_the_testing_config(client, world):
    response = login(client, world.regulator)
    assert response.status_code == 302 and "/account/totp" not in response.headers["Location"]
    assert client.get("/enterprises/").status_code == 200


def test_enforcement_follows_the_configured_roles(app, client, world):
    enforce(app, "admin")
    assert "/account/totp" not in login(client, world.regulator).headers["Location"]
    other = app.test_client()
    assert "/account/totp" in login(other, world.admin).headers["Location"]


def test_login_code_page_without_a_pending_sign_in_goes_back_to_login(client, world):
    response = client.get("/account/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")


def test_session_of_a_totp_account_without_the_second_factor_is_refused(app, client, world, enforced):
    login(client, world.alice)  # a plain session ...
    enrol(world.alice)  # ... then TOTP turned on behind its back (no sign-in through the code)
    assert client.get("/account/").status_code == 302
