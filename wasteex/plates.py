"""Chinese vehicle plate numbers (GA 36-2018): ordinary, trailer and new-energy formats. Pure."""
from __future__ import annotations

import re
import unicodedata

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # I and O are never used
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警]$")
# New energy, small cars: D (pure electric) / F (other) etc. then 5 characters.
_NEW_ENERGY_SMALL = re.compile(rf"^[{PROVINCES}][{_LETTER}][DABCEFGHJK][{_LETTER}0-9][0-9]{{4}}$")
# New energy, large vehicles (trucks, buses): 5 digits then D / F.
_NEW_ENERGY_LARGE = re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[DABCEFGHJK]$")


def normalise_plate(raw: str) -> str:
    """Uppercase, drop spaces, dots and dashes, fold full-width letters and digits."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    return re.sub(r"[\s·.\-]", "", text)


def is_valid_plate(raw: str) -> bool:
    plate = normalise_plate(raw)
    return any(p.match(plate) for p in (_ORDINARY, _NEW_ENERGY_SMALL, _NEW_ENERGY_LARGE))
