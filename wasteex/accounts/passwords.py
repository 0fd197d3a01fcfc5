"""Password policy and hashing (ASVS V2.1): 12–128 characters, no truncation,
guessable passwords refused offline with zxcvbn, scrypt by default."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_ZXCVBN_SCORE = 2  # 0–4; below 2 is "too guessable" (common words, keyboard runs, years)


def password_problem(password: str, user_inputs: list[str] | tuple[str, ...] = ()):
    """Why this password is not acceptable (a lazy translated string), or None."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least 12 characters.")
    if len(password) > MAX_LENGTH:
        return _l("Use at most 128 characters.")
    # zxcvbn is slow on very long inputs and they are not guessable anyway.
    if len(password) < 40 and zxcvbn(password, user_inputs=list(user_inputs))["score"] < MIN_ZXCVBN_SCORE:
        return _l("This password is too easy to guess; add unrelated words.")
    return None


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def verify_password(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)
