"""Helpers for tests of the TOTP second factor (not a test module)."""
from __future__ import annotations

from wasteex.accounts import totp
from wasteex.accounts.second_factor import encryption_keys
from wasteex.database import utcnow
from wasteex.extensions import db

REQUIRED = "regulator,admin"


def enforce(app, roles: str = REQUIRED) -> None:
    """Turn on the enforcement that the testing config leaves off."""
    app.config["TOTP_REQUIRED_ROLES"] = roles


def enrol(user) -> str:
    """Give ``user`` a confirmed TOTP secret directly in the database; returns the secret."""
    secret = totp.new_secret()
    user.totp_secret = totp.encrypt_secret(secret, encryption_keys())
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None
    db.session.commit()
    return secret


def stored_secret(user) -> str:
    db.session.refresh(user)
    return totp.decrypt_secret(user.totp_secret, encryption_keys())


def code(secret: str, offset: int = 0) -> str:
    """The code of the current time step (``offset`` steps later or earlier)."""
    return totp.code_at(secret, totp.current_step() + offset)


def sign_in_with_code(client, user, secret: str, password: str, offset: int = 0):
    response = client.post("/account/login", data={"email": user.email, "password": password})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login/code")
    return client.post("/account/login/code", data={"code": code(secret, offset)})
