"""CSRF and response security headers, with CSRF protection on as in production."""
import re
from types import SimpleNamespace

import pytest

from tests.factories import PASSWORD, make_enterprise, make_site, make_user
from tests.web.pages import csrf_token
from wasteex.accounts import service as accounts
from wasteex.enterprises.models import Site
from wasteex.extensions import db


@pytest.fixture
def csrf_client(csrf_app, world_for_csrf):
    return csrf_app.test_client()


@pytest.fixture
def world_for_csrf(csrf_app):
    """Alice, her enterprise and its site, made in the CSRF app's context."""
    alice = make_user("alice@a.cn")
    a = make_enterprise(alice)
    return SimpleNamespace(alice=alice, a=a, site_a=make_site(a))


def sign_in(client, email="alice@a.cn"):
    token = csrf_token(client, "/account/login")
    response = client.post("/account/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return csrf_token(client, "/")  # the session was renewed at login: a new token


def login(client, world):
    client.post("/account/login", data={"email": world.alice.email, "password": PASSWORD})


def site_name(site_id):
    db.session.expire_all()
    return db.session.get(Site, site_id).name


def test_form_post_without_token_is_refused(csrf_client, world_for_csrf):
    response = csrf_client.post("/account/login", data={"email": "alice@a.cn", "password": PASSWORD})
    assert response.status_code == 400
    assert csrf_client.get("/account/").status_code == 302  # not signed in
    token = sign_in(csrf_client)
    assert csrf_client.post("/account/logout").status_code == 400
    assert csrf_client.post("/account/logout", data={"csrf_token": "forged"}).status_code == 400
    assert csrf_client.get("/account/").status_code == 200  # still signed in
    assert csrf_client.post("/account/logout", data={"csrf_token": token}).status_code == 302
    assert csrf_client.get("/account/").status_code == 302


def test_site_edit_form_without_token_changes_nothing(csrf_client, world_for_csrf):
    sign_in(csrf_client)
    site = world_for_csrf.site_a
    response = csrf_client.post(f"/enterprises/sites/{site.id}/edit", data={
        "name": "被篡改", "code": site.code, "address": "x", "division_code": "150622",
        "latitude": "39.8", "longitude": "111.2"})
    assert response.status_code == 400
    assert site_name(site.id) == "一号厂区"


def test_json_api_with_a_session_cookie_needs_the_csrf_header(csrf_client, world_for_csrf):
    token = sign_in(csrf_client)
    url = f"/api/v1/sites/{world_for_csrf.site_a.id}"
    response = csrf_client.patch(url, json={"name": "跨站改名"})
    assert response.status_code == 400 and response.json["error"]["code"]
    assert site_name(world_for_csrf.site_a.id) == "一号厂区"
    response = csrf_client.patch(url, json={"name": "正常改名"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert site_name(world_for_csrf.site_a.id) == "正常改名"


def test_bearer_calls_need_no_csrf_header(csrf_app, world_for_csrf):
    _, secret = accounts.issue_token(world_for_csrf.alice, "ci")
    db.session.commit()
    client = csrf_app.test_client()
    response = client.patch(f"/api/v1/sites/{world_for_csrf.site_a.id}", json={"name": "令牌改名"},
                            headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert site_name(world_for_csrf.site_a.id) == "令牌改名"
    token = client.post("/api/v1/auth/token", json={"email": "alice@a.cn", "password": PASSWORD})
    assert token.status_code == 201  # credentials in the body, no cookie: no CSRF token needed


def test_a_bogus_bearer_header_does_not_fall_back_to_the_cookie(csrf_client, world_for_csrf):
    """Bearer requests skip the CSRF check, so the cookie must not authenticate them."""
    sign_in(csrf_client)
    url = f"/api/v1/sites/{world_for_csrf.site_a.id}"
    response = csrf_client.patch(url, json={"name": "绕过"}, headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert csrf_client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert site_name(world_for_csrf.site_a.id) == "一号厂区"


def _check_headers(response, what):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert directives.get("script-src") == ["'self'"], what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert directives.get("object-src") == ["'none'"], what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy"), what


def test_security_headers_on_pages_errors_static_files_and_api(app, client, world):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("deliberate")

    cases = {
        "home": ("/", 200), "login page": ("/account/login", 200), "404 page": ("/no/such/page", 404),
        "500 page": ("/boom-for-test", 500), "static css": ("/static/css/app.css", 200),
        "static js": ("/static/js/app.js", 200), "api 401": ("/api/v1/me", 401),
        "api 404": ("/api/v1/no-such", 404), "openapi": ("/api/v1/openapi.json", 200),
    }
    for what, (path, status) in cases.items():
        response = client.get(path)
        assert response.status_code == status, what
        _check_headers(response, what)
    login(client, world)
    page = client.get("/enterprises/")
    _check_headers(page, "signed-in page")
    assert page.headers["Cache-Control"] == "no-store"


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # inline script blocks
    re.compile(r"\son[a-z]+\s*=", re.I),  # inline event handlers
    re.compile(r"\sstyle\s*=", re.I),  # style attributes (blocked by style-src 'self')
]


def test_pages_contain_nothing_the_csp_would_block(client, world):
    paths = ["/", "/account/login", "/account/register", "/api/v1/docs", "/no/such/page"]
    login(client, world)
    paths += ["/account/", "/account/password", "/enterprises/", "/enterprises/new",
              f"/enterprises/{world.a.id}", f"/enterprises/{world.a.id}/edit",
              f"/enterprises/{world.a.id}/sites/new", f"/enterprises/sites/{world.site_a.id}",
              f"/enterprises/{world.b.id}"]
    for path in paths:
        html = client.get(path).get_data(as_text=True)
        for pattern in INLINE:
            assert not pattern.search(html), (path, pattern.pattern, pattern.search(html))
