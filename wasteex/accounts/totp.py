"""TOTP second factor, the pure core (RFC 6238 through pyotp; no Flask, no SQLAlchemy).

- Codes are 6 digits over 30-second steps; a code is accepted one step early or late
  (clock drift) and only for a step later than the last one accepted, so a code cannot
  be replayed, not even inside its own window.
- The base32 secret is stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with keys the
  caller passes in; the first key encrypts, every key decrypts (rotation).
- The enrolment QR code is rendered on the server as an SVG ``data:`` URI (segno), so the
  secret never leaves the page for a third-party QR service.
"""
from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Sequence

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1  # steps accepted on either side of the current one


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with any configured key."""


def new_secret() -> str:
    """A random 160-bit base32 secret (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The URI as a QR code: an SVG image in a ``data:`` URI (allowed by our CSP's img-src)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise_code(code: str | None) -> str:
    """Digits only: authenticator apps show "123 456", people type spaces and dashes."""
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-")


def looks_like_code(text: str | None) -> bool:
    code = normalise_code(text)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str | None, *, last_step: int | None = None,
                  now: float | None = None, window: int = WINDOW) -> int | None:
    """The time step ``code`` belongs to, or None if it is wrong, outside the window or replayed.

    The caller stores the returned step as the new ``last_step``: a later call with a code of
    that step or an earlier one is refused.
    """
    code = normalise_code(code)
    if not looks_like_code(code):
        return None
    step = current_step(now)
    accepted = None
    for candidate in range(step - window, step + window + 1):
        # Compare every candidate (constant work whichever step matches).
        if hmac.compare_digest(code_at(secret, candidate), code) and accepted is None:
            accepted = candidate
    if accepted is None or (last_step is not None and accepted <= last_step):
        return None
    return accepted


# Encryption of the stored secret ------------------------------------------------

def derive_key(material: str) -> bytes:
    """A Fernet key derived from arbitrary key material (the app's SECRET_KEY) with HKDF."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"wasteex totp secret v1").derive(material.encode())
    return base64.urlsafe_b64encode(raw)


def as_fernet_key(key: str) -> bytes:
    """A configured key: a Fernet key as is, any other string through HKDF."""
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32 and len(key) == 44:
            return key.encode()
    except (ValueError, TypeError):
        pass
    return derive_key(key)


def _fernet(keys: Sequence[str]) -> MultiFernet:
    if not keys:
        raise ValueError("no TOTP encryption key configured")
    return MultiFernet([Fernet(as_fernet_key(k)) for k in keys])


def encrypt_secret(secret: str, keys: Sequence[str]) -> str:
    return _fernet(keys).encrypt(secret.encode()).decode()


def decrypt_secret(stored: str, keys: Sequence[str]) -> str:
    try:
        return _fernet(keys).decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the TOTP secret cannot be decrypted with the configured keys") from exc

