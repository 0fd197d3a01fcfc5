"""The security log: one JSON line per security event on the logger ``wasteex.security`` (ASVS V7).

Call ``event(name, outcome, ...)`` where the event happens; ``signature(...)`` for signatures
(transfer slips and the like). Every line carries::

    {"ts", "event", "outcome", "user_id", "enterprise_id", "ip", "method", "route", "path", ...details}

``outcome`` is ``success``, ``failure`` (wrong credentials or input) or ``denied`` (refused
access). ``route`` is the URL rule (``/enterprises/<int:enterprise_id>``), ``path`` the path
without its query string. Failures and denials are logged at WARNING, the rest at INFO.

Never logged: passwords, bearer tokens, cookies, CSRF tokens, TOTP codes or secrets, query
strings, headers or request bodies. Detail keys that look like one of those are dropped, and an
e-mail address typed at a failed login is logged only as a fingerprint (people type passwords
into the e-mail field). Names of invalid fields are logged, never their values.

Events in use: ``login.success``, ``login.password_ok`` (TOTP still to come), ``login.failure``, ``login.throttled``, ``logout``,
``session.expired``, ``access.denied``, ``csrf.failure``, ``validation.failure``,
``token.created``, ``token.revoked``, ``token.rejected``, ``token.refused``, ``totp.enrolled``,
``totp.failure``, ``totp.throttled``, ``totp.reset``, ``totp.disabled``, ``reauth.success``,
``reauth.failure``, ``reauth.required``, ``signature``.

With ``SECURITY_LOG_FILE`` set, the lines also go to that file as bare JSON (one object a line,
ready for a log shipper); otherwise they reach the root handlers like any other log.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime, timezone
from typing import Any

from flask import Flask, g, has_request_context, request

LOGGER_NAME = "wasteex.security"
log = logging.getLogger(LOGGER_NAME)

SUCCESS, FAILURE, DENIED = "success", "failure", "denied"
# Detail keys that could carry a secret are refused whatever the caller meant.
_SECRET_KEY = re.compile(r"pass|secret|cookie|otp|authoriz|csrf|^token$|^code$|^session", re.IGNORECASE)
_MAX_TEXT = 200


def fingerprint(text: str) -> str:
    """A short non-reversible tag correlating lines about the same value (an e-mail typed at login)."""
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:12]


def _plain(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, (str, int)):  # enums
        value = value.value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value][:50]
    return str(value)[:_MAX_TEXT]


def _request_user():
    """The signed-in user if Flask-Login already loaded one (never triggers a load here)."""
    user = g.get("_login_user") if has_request_context() else None
    return user if getattr(user, "is_authenticated", False) else None


def _request_fields() -> dict[str, Any]:
    if not has_request_context():
        return {"ip": None, "method": None, "route": None, "path": None}
    rule = request.url_rule.rule if request.url_rule is not None else None
    return {"ip": request.remote_addr, "method": request.method, "route": rule, "path": request.path[:_MAX_TEXT]}


def _enterprise_from_request() -> int | None:
    if not has_request_context() or not request.view_args:
        return None
    value = request.view_args.get("enterprise_id")
    return value if isinstance(value, int) else None


def event(name: str, outcome: str = SUCCESS, *, user=None, user_id: int | None = None,
          enterprise_id: int | None = None, **details: Any) -> dict[str, Any]:
    """Log one security event; returns the record (handy in tests)."""
    user = user if user is not None else _request_user()
    record: dict[str, Any] = {
        "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "event": name,
        "outcome": outcome,
        "user_id": user_id if user_id is not None else getattr(user, "id", None),
        "enterprise_id": enterprise_id if enterprise_id is not None else _enterprise_from_request(),
        **_request_fields(),
    }
    for key, value in details.items():
        if _SECRET_KEY.search(key) or key in record:
            continue
        record[key] = _plain(value)
    level = logging.INFO if outcome == SUCCESS else logging.WARNING
    # Alembic's env.py runs logging.config.fileConfig, which disables every logger that exists
    # at that moment (an in-process `upgrade()`, as the tests do): the security log must not go quiet.
    log.disabled = False
    # json.dumps escapes control characters: a record is always exactly one line.
    log.log(level, json.dumps(record, sort_keys=False, separators=(",", ":")))
    return record


def signature(actor, kind: str, obj=None, *, enterprise_id: int | None = None, outcome: str = SUCCESS,
              object_type: str | None = None, object_id: int | None = None, **details: Any) -> dict[str, Any]:
    """Log a signature (e.g. ``kind="transfer.receipt"`` on a transfer slip), signed or refused."""
    return event(
        "signature", outcome, user=actor, enterprise_id=enterprise_id, kind=kind,
        object_type=object_type or getattr(obj, "__tablename__", None),
        object_id=object_id if object_id is not None else getattr(obj, "id", None), **details,
    )


class _BareJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def init_app(app: Flask) -> None:
    path = app.config.get("SECURITY_LOG_FILE")
    if not path:
        return
    if not any(getattr(h, "baseFilename", None) == str(path) for h in log.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(_BareJson())
        log.addHandler(handler)
    log.setLevel(logging.INFO)
