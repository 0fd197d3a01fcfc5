from decimal import Decimal

import pytest

from wasteex.geo import DIVISIONS, GAZETTEER, Base, base_of, geocode, valid_coordinates


@pytest.mark.parametrize("code, base", [
    ("150622", Base.JUNGAR), ("150626", Base.UXIN), ("150624", Base.OTOG),
    ("150623", Base.OUTSIDE),  # Otog *Front* banner is not the Otog base
    ("150602", Base.OUTSIDE), ("", Base.OUTSIDE), (None, Base.OUTSIDE), ("999999", Base.OUTSIDE),
])
def test_base_follows_the_banner(code, base):
    assert base_of(code) is base


def test_gazetteer_places_sit_in_known_banners_near_ordos():
    for place in GAZETTEER:
        assert place.division_code in DIVISIONS
        assert Decimal("37.5") < place.lat < Decimal("41") and Decimal("106") < place.lon < Decimal("112")


def test_coordinates_range():
    assert valid_coordinates(Decimal("39.865"), Decimal("111.216"))
    assert not valid_coordinates(Decimal("91"), Decimal("0"))
    assert not valid_coordinates(Decimal("0"), Decimal("-180.5"))


def test_geocoder_is_off_unless_configured():
    assert geocode("准格尔旗薛家湾镇", {}) is None
