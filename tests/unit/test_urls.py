import pytest

from wasteex.urls import safe_next


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "evil.example", "", None,
])
def test_foreign_or_odd_targets_fall_back(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/enterprises/3?x=1", "/account/"])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target
