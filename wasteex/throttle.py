"""Failure throttling for logins, token requests, TOTP codes and re-authentication,
per account and per IP.

Counts only failures, with the ``limits`` library (the engine behind
Flask-Limiter). Its storage is ``RATELIMIT_STORAGE_URI``: in-process memory by
default, Redis in production so that all gunicorn workers share the counters.
"""
from __future__ import annotations

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION_KEY = "wasteex_throttle"


class Throttle:
    def __init__(self, storage_uri: str, max_failures: int, window_seconds: int) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.item = RateLimitItemPerSecond(max_failures, window_seconds)

    def blocked(self, *keys: str) -> bool:
        return any(not self.limiter.test(self.item, "login-failure", key) for key in keys)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self.limiter.hit(self.item, "login-failure", key)

    def clear(self, *keys: str) -> None:
        for key in keys:
            self.limiter.clear(self.item, "login-failure", key)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Throttle(
        app.config["RATELIMIT_STORAGE_URI"],
        app.config["LOGIN_MAX_FAILURES"],
        app.config["LOGIN_FAILURE_WINDOW"],
    )


def login_throttle() -> Throttle:
    return current_app.extensions[EXTENSION_KEY]


def keys_for(email: str, ip: str | None) -> tuple[str, str]:
    return f"account:{email.strip().lower()}", f"ip:{ip or 'unknown'}"


def totp_keys_for(user_id: int, ip: str | None) -> tuple[str, str]:
    """TOTP failures count per account apart from password failures, and per IP with them."""
    return f"totp:{user_id}", f"ip:{ip or 'unknown'}"
