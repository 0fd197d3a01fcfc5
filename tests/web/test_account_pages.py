"""Sign-up, sign-in, sign-out and password pages: flows, server-side revocation, redirects, cookies."""
import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, login
from tests.web.pages import field_error
from wasteex import create_app
from wasteex.accounts.models import User
from wasteex.extensions import db

NEW_PASSWORD = "amber-lantern-quietly-folds"


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_register_login_logout(client):
    response = client.post("/account/register", data={
        "name": "张三", "email": "Zhang@Example.cn", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/enterprises/new"
    user = db.session.scalar(select(User).where(User.email == "zhang@example.cn"))
    assert user is not None and user.password_hash.startswith("scrypt:")
    assert client.get("/account/").status_code == 200  # signed in by registration

    assert client.post("/account/logout").status_code == 302
    assert client.get("/account/").status_code == 302

    response = client.post("/account/login", data={"email": "zhang@example.cn", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/account/")
    assert page.status_code == 200 and "zhang@example.cn" in page.get_data(as_text=True)


def test_register_errors_are_shown_next_to_their_fields(client, world):
    response = client.post("/account/register", data={
        "name": "李四", "email": "li@example.cn", "password": "short", "confirm": "different"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(html, "confirm")  # the two passwords differ
    response = client.post("/account/register", data={
        "name": "李四", "email": "li@example.cn", "password": "short-pass", "confirm": "short-pass"})
    assert field_error(response.get_data(as_text=True), "password")
    response = client.post("/account/register", data={
        "name": "Alice again", "email": "ALICE@a.cn", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert field_error(response.get_data(as_text=True), "email")
    assert db.session.scalar(select(User).where(User.email == "li@example.cn")) is None


def test_wrong_login_is_401_and_the_sixth_attempt_is_throttled(client, world):
    for _ in range(5):
        assert login(client, world.alice, "wrong-password").status_code == 401
    response = login(client, world.alice)  # right password, but throttled
    assert response.status_code == 429
    assert client.get("/account/").status_code == 302


def test_a_cookie_saved_before_logout_is_refused_afterwards(client, world):
    login(client, world.alice)
    saved = client.get_cookie("session").value
    assert client.get("/api/v1/me").status_code == 200
    client.post("/account/logout")
    client.set_cookie("session", saved)  # the attacker replays the old cookie
    response = client.get("/account/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/login")
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and api.json["error"]["code"] == "unauthorized"


def test_password_change_revokes_every_other_session(app, world):
    mine, other = app.test_client(), app.test_client()
    login(mine, world.alice)
    login(other, world.alice)
    response = mine.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert mine.get("/account/").status_code == 200  # this session continues
    assert other.get("/account/").status_code == 302
    assert other.get("/api/v1/me").status_code == 401
    fresh = app.test_client()
    assert login(fresh, world.alice).status_code == 401  # the old password is gone
    assert login(fresh, world.alice, NEW_PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.alice.id).password_changed_at is not None


def test_wrong_current_password_changes_nothing(client, world):
    login(client, world.alice)
    old_hash = world.alice.password_hash
    response = client.post("/account/password", data={
        "current_password": "not-it-at-all", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), "current_password")
    db.session.expire_all()
    assert db.session.get(User, world.alice.id).password_hash == old_hash


EVIL_TARGETS = [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "http:evil.example",
    "javascript:alert(1)", " //evil.example", "/\t/evil.example", "https:/\\evil.example", "evil.example",
]


def test_next_redirects_only_to_local_paths(app, world):
    for target in EVIL_TARGETS:
        client = app.test_client()
        response = client.post("/account/login", query_string={"next": target},
                               data={"email": world.alice.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target
        response = client.post("/account/language", data={"lang": "en", "next": target})
        assert response.headers["Location"] == "/", target
    client = app.test_client()
    response = client.post("/account/login", query_string={"next": "/enterprises/?q=a"},
                           data={"email": world.alice.email, "password": PASSWORD})
    assert response.headers["Location"] == "/enterprises/?q=a"


def test_unauthenticated_page_sends_to_login_with_a_local_next(client, world):
    response = client.get("/enterprises/?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_session_cookie_is_httponly_and_samesite_lax(client, world):
    cookie = session_cookie(login(client, world.alice))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run on plain http


def test_production_cookie_is_secure_and_needs_a_real_secret(database_url, monkeypatch):
    monkeypatch.setenv("WASTEEX_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "a-long-random-production-secret-42"})
    with app.app_context():
        response = app.test_client().get("/account/login", base_url="https://wasteex.example")
        cookies = response.headers.getlist("Set-Cookie")
        db.engine.dispose()
    assert response.status_code == 200
    session = next(c for c in cookies if c.startswith("__Host-session="))
    assert all(flag in session for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert "Domain" not in session
    assert "Strict-Transport-Security" in response.headers
