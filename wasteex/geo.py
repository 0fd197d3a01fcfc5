"""Ordos geography: banners, demonstration bases, an offline gazetteer, geocoding.

Pure data and functions (DOMAIN.md §7–§8). The geopy geocoder is only built
when ``GEOCODER`` is configured; nothing here touches the network otherwise.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class Base(enum.Enum):
    """The three demonstration bases of the city plan, plus everything else."""

    JUNGAR = "jungar"
    UXIN = "uxin"
    OTOG = "otog"
    OUTSIDE = "outside"


@dataclass(frozen=True)
class Division:
    code: str
    name_zh: str
    name_en: str


DIVISIONS: dict[str, Division] = {
    d.code: d
    for d in (
        Division("150602", "东胜区", "Dongsheng District"),
        Division("150603", "康巴什区", "Kangbashi District"),
        Division("150621", "达拉特旗", "Dalad Banner"),
        Division("150622", "准格尔旗", "Jungar Banner"),
        Division("150623", "鄂托克前旗", "Otog Front Banner"),
        Division("150624", "鄂托克旗", "Otog Banner"),
        Division("150625", "杭锦旗", "Hanggin Banner"),
        Division("150626", "乌审旗", "Uxin Banner"),
        Division("150627", "伊金霍洛旗", "Ejin Horo Banner"),
    )
}
CITY_DIVISION = Division("150600", "鄂尔多斯市", "Ordos City")

BASE_OF_DIVISION = {"150622": Base.JUNGAR, "150626": Base.UXIN, "150624": Base.OTOG}

BASE_NAMES = {
    Base.JUNGAR: ("准格尔旗基地", "Jungar base"),
    Base.UXIN: ("乌审旗基地", "Uxin base"),
    Base.OTOG: ("鄂托克旗基地", "Otog base"),
    Base.OUTSIDE: ("基地以外", "Outside the bases"),
}


def base_of(division_code: str | None) -> Base:
    """The demonstration base a banner belongs to (a site inherits its banner's)."""
    return BASE_OF_DIVISION.get(division_code or "", Base.OUTSIDE)


@dataclass(frozen=True)
class Place:
    key: str
    name_zh: str
    name_en: str
    division_code: str
    lat: Decimal
    lon: Decimal
    approximate: bool = False


GAZETTEER: tuple[Place, ...] = (
    Place("dongsheng", "东胜（市中心）", "Dongsheng (city centre)", "150602", Decimal("39.61"), Decimal("109.78")),
    Place("kangbashi", "康巴什", "Kangbashi", "150603", Decimal("39.608"), Decimal("109.781"), True),
    Place("shulinzhao", "树林召镇（达拉特旗）", "Shulinzhao, Dalad", "150621", Decimal("40.40"), Decimal("110.04"), True),
    Place("xuejiawan", "薛家湾镇（准格尔旗）", "Xuejiawan, Jungar", "150622", Decimal("39.865"), Decimal("111.216")),
    Place("dalu", "大路工业园区（准格尔旗）", "Dalu Industrial Park, Jungar", "150622", Decimal("40.0"), Decimal("111.3"), True),
    Place("aolezhaoqi", "敖勒召其镇（鄂托克前旗）", "Aolezhaoqi, Otog Front", "150623", Decimal("38.18"), Decimal("107.48"), True),
    Place("wulan", "乌兰镇（鄂托克旗）", "Ulan, Otog", "150624", Decimal("39.10"), Decimal("107.98"), True),
    Place("qipanjing", "棋盘井镇（鄂托克旗）", "Qipanjing, Otog", "150624", Decimal("39.35"), Decimal("106.98"), True),
    Place("xini", "锡尼镇（杭锦旗）", "Xini, Hanggin", "150625", Decimal("39.83"), Decimal("108.73"), True),
    Place("galutu", "嘎鲁图镇（乌审旗）", "Galutu, Uxin", "150626", Decimal("38.61"), Decimal("108.82")),
    Place("tuke", "图克工业项目区（乌审旗）", "Tuke Industrial Zone, Uxin", "150626", Decimal("39.1"), Decimal("109.1"), True),
    Place("altan_xiret", "阿勒腾席热镇（伊金霍洛旗）", "Altan Xiret, Ejin Horo", "150627", Decimal("39.57"), Decimal("109.73"), True),
)
PLACES = {p.key: p for p in GAZETTEER}


def valid_coordinates(lat: Decimal | float, lon: Decimal | float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180


def geocode(address: str, config: dict) -> tuple[Decimal, Decimal] | None:
    """Look an address up with geopy's Nominatim, only when ``GEOCODER`` enables it.

    Returns None when geocoding is off, the service is unreachable, or nothing
    is found: callers then fall back to the gazetteer or manual coordinates.
    """
    if config.get("GEOCODER") != "nominatim":
        return None
    from geopy.exc import GeopyError
    from geopy.geocoders import Nominatim

    geocoder = Nominatim(user_agent="wasteex", timeout=5)
    try:
        location = geocoder.geocode(address, country_codes="cn")
    except GeopyError:
        return None
    if location is None:
        return None
    return Decimal(str(round(location.latitude, 6))), Decimal(str(round(location.longitude, 6)))
