"""统一社会信用代码 (unified social credit code, GB 32100-2015) — pure validation.

Every enterprise, receiver and carrier in the ledger is identified by this code
(MEE ledger guide, 附表1/2/7), so a typo must be caught at the door instead of
silently splitting one enterprise into two. Layout of the 18 characters::

    position  1     registration-authority code (登记管理部门代码)
    position  2     organisation type code (机构类别代码)
    positions 3-8   administrative division code (登记管理机关行政区划码)
    positions 9-17  organisation code (主体标识码): 8 body chars + GB 11714 check char
    position  18    check character, mod 31 over ``ALPHABET``

Decision on the GB 11714 organisation-code check: codes issued in practice
satisfy it (including the ``MA…`` bodies assigned since 2015), so a failure is
almost always a typo. We enforce it by default but report it with its own
``reason`` ("org_check") so a caller that meets a genuine legacy exception can
relax it (``check_org_code=False``) instead of rejecting the enterprise.

Error messages are English; ``UsccError.reason`` and ``UsccError.expected``
let the UI render its own translated text (e.g. "校验码错误：最后一位应为 X").
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ALPHABET",
    "UsccError",
    "division_of",
    "make_uscc",
    "org_check_char",
    "uscc_check_char",
    "validate_uscc",
]

# GB 32100 excludes I, O, S, V and Z to avoid confusion with 1, 0, 5, U and 2.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18

# First two digits of a division code: 10 marks national-level registration,
# the rest are the province-level units of GB/T 2260 (incl. 71 台湾, 81/82 港澳).
_PROVINCE_PREFIXES = frozenset(
    ["10", "11", "12", "13", "14", "15", "21", "22", "23"]
    + [f"{n}" for n in range(31, 38)]
    + [f"{n}" for n in range(41, 47)]
    + [f"{n}" for n in range(50, 55)]
    + [f"{n}" for n in range(61, 66)]
    + ["71", "81", "82"]
)


class UsccError(ValueError):
    """A credit code that is not valid; ``reason`` is a stable machine key.

    Reasons: "type", "length", "charset", "division", "org_check", "check_char".
    ``expected`` holds the character that should have been there for the two
    check-character reasons, else None.
    """

    def __init__(self, message: str, reason: str, expected: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.expected = expected


def _normalise(code: object) -> str:
    """NFKC folds full-width input (common with Chinese IMEs) to ASCII."""
    if not isinstance(code, str):
        raise UsccError("credit code must be a string", "type")
    return unicodedata.normalize("NFKC", code).strip().upper()


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character (18th) for the first 17 characters."""
    if len(first17) != LENGTH - 1:
        raise UsccError("need exactly 17 characters to compute the check character", "length")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS))
    except KeyError as exc:
        bad = exc.args[0]
        raise UsccError(f"character {bad!r} is not allowed in a credit code", "charset") from None
    return ALPHABET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    """GB 11714 values digits 0-9 and letters A=10 … Z=35."""
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_check_char(body8: str) -> str:
    """Return the GB 11714 organisation-code check character for 8 body chars."""
    if len(body8) != 8 or not all(ch.isascii() and ch.isalnum() for ch in body8):
        raise UsccError("organisation code body must be 8 letters or digits", "charset")
    total = sum(_org_value(ch) * w for ch, w in zip(body8.upper(), _ORG_WEIGHTS))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def _check_shape(code: str) -> None:
    if len(code) != LENGTH:
        raise UsccError(f"credit code must have {LENGTH} characters, got {len(code)}", "length")
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        raise UsccError(
            f"credit code contains characters not allowed by GB 32100: {''.join(bad)!r} "
            "(I, O, S, V, Z and punctuation are never used)",
            "charset",
        )


def _check_division(division: str) -> None:
    if not division.isdigit() or division[:2] not in _PROVINCE_PREFIXES:
        raise UsccError(
            f"characters 3-8 must be an administrative division code, got {division!r}",
            "division",
        )


def _check_org(code: str) -> None:
    expected = org_check_char(code[8:16])
    if code[16] != expected:
        raise UsccError(
            f"organisation code check character (17th) is wrong: should be {expected}",
            "org_check",
            expected,
        )


def validate_uscc(code: str, *, check_org_code: bool = True) -> str:
    """Return the normalised code or raise UsccError saying what is wrong.

    Checks run from coarse to fine so the message names the first real fault.
    """
    code = _normalise(code)
    _check_shape(code)
    _check_division(code[2:8])
    if check_org_code:
        _check_org(code)
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise UsccError(
            f"check character (last) is wrong: should be {expected}", "check_char", expected
        )
    return code


def make_uscc(authority: str, type: str, division: str, org_body8: str) -> str:  # noqa: A002
    """Build a valid code from its parts (demo data, test factories)."""
    head = _normalise(f"{authority}{type}{division}{org_body8}")
    if len(authority) != 1 or len(type) != 1 or len(division) != 6 or len(org_body8) != 8:
        raise UsccError("need 1 + 1 + 6 + 8 characters to build a credit code", "length")
    first17 = head + org_check_char(head[8:16])
    return validate_uscc(first17 + uscc_check_char(first17))


def division_of(code: str) -> str:
    """Return the 6-digit administrative division of a valid code (e.g. "150622")."""
    return validate_uscc(code)[2:8]
