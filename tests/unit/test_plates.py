import pytest

from wasteex.plates import is_valid_plate, normalise_plate


@pytest.mark.parametrize("plate", [
    "蒙K12345", "蒙KA1234", "蒙K·A1234", "蒙 k a1234", "蒙K1234挂",  # ordinary and trailer
    "蒙KD12345", "蒙KFA1234",  # new energy, small
    "蒙K12345D", "京A12345F",  # new energy, large (trucks)
    "蒙Ｋ１２３４５",  # full-width input
])
def test_valid_plates(plate):
    assert is_valid_plate(plate)


@pytest.mark.parametrize("plate", [
    "", "K12345", "蒙112345", "蒙KI2345", "蒙KO1234", "蒙K1234", "蒙K1234567", "美K12345", "蒙K12345X1",
])
def test_invalid_plates(plate):
    assert not is_valid_plate(plate)


def test_normalise():
    assert normalise_plate(" 蒙k·a12-34 ") == "蒙KA1234"
