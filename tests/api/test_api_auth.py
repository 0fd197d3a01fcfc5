"""POST /api/v1/auth/token and GET /api/v1/me."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.api.calls import assert_error, bearer
from tests.factories import PASSWORD
from wasteex.accounts import service
from wasteex.accounts.models import ApiToken
from wasteex.database import utcnow
from wasteex.extensions import db


def tokens() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def test_token_for_good_credentials(client, world):
    response = client.post("/api/v1/auth/token", json={"email": " ALICE@a.cn ", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "expires_at"}
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)
    assert tokens() == 1
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["email"] == "alice@a.cn"


def test_wrong_password_and_unknown_user_get_the_same_401(client, world):
    wrong = client.post("/api/v1/auth/token", json={"email": "alice@a.cn", "password": "nope-nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"email": "ghost@a.cn", "password": "nope-nope-nope"})
    assert assert_error(wrong, 401) == assert_error(unknown, 401)
    assert tokens() == 0


def test_sixth_attempt_is_throttled_even_with_the_right_password(client, world):
    for _ in range(5):
        assert client.post("/api/v1/auth/token",
                           json={"email": "alice@a.cn", "password": "wrong-password"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"email": "alice@a.cn", "password": PASSWORD})
    assert assert_error(response, 429)["code"] == "too_many_attempts"
    assert tokens() == 0
    # Bob from another address is not affected.
    other = client.post("/api/v1/auth/token", json={"email": "bob@b.cn", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 201


def test_token_endpoint_refuses_bad_bodies(client, world):
    assert_error(client.post("/api/v1/auth/token", json={"email": "alice@a.cn"}), 422, "password")
    assert_error(client.post("/api/v1/auth/token", json={"email": ["alice@a.cn"], "password": 1}),
                 422, "email", "password")
    assert_error(client.post("/api/v1/auth/token",
                             json={"email": "alice@a.cn", "password": PASSWORD, "admin": True}), 422, "admin")
    assert_error(client.post("/api/v1/auth/token", data="{", content_type="application/json"), 400)
    assert tokens() == 0


def test_me_needs_a_valid_token(client, world):
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer wx_not-a-token"}), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6cHc="}), 401)
    response = client.get("/api/v1/me", headers=bearer(world.alice))
    assert response.status_code == 200
    assert response.json["memberships"] == [
        {"enterprise_id": world.a.id, "enterprise_name": world.a.name, "role": "admin"}]
    assert "password_hash" not in response.json and "session_token" not in response.json
    assert client.get("/api/v1/me", headers=bearer(world.regulator)).json["platform_role"] == "regulator"


def test_revoked_and_expired_tokens_are_401(client, world):
    token, secret = service.issue_token(world.alice, "soon revoked")
    _, expired = service.issue_token(world.alice, "old", expires_at=utcnow() - timedelta(minutes=1))
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    service.revoke_token(world.alice, token.id)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"}), 401)
