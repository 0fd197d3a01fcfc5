"""Unit tests for the GB 32100 credit-code check (pure, no app)."""

import pytest

from wasteex.enterprises.uscc import (
    UsccError,
    division_of,
    make_uscc,
    org_check_char,
    uscc_check_char,
    validate_uscc,
)

# Published codes; each verified to pass both the GB 11714 and the mod-31 check.
REAL_CODES = [
    "91350100M000100Y43",  # worked example in GB 32100-2015
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司 (org check char X)
    "91330100716105852F",  # 阿里巴巴(中国)有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91110000600037341L",
    "91440300708461136T",
    "91110000710925243K",
    "91440300192176077R",
    "91110000802100433B",
    "91320000134767063W",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]
    assert org_check_char(code[8:16]) == code[16]


def test_normalises_case_whitespace_and_full_width():
    assert validate_uscc("  9144030071526726xg \n") == "9144030071526726XG"
    assert validate_uscc("９１４４０３００１９２２０３８２１６") == "914403001922038216"


def test_division_of():
    assert division_of("91330100716105852F") == "330100"
    assert division_of(make_uscc("9", "1", "150622", "MA0N1234")) == "150622"


def _reason(code, **kw):
    with pytest.raises(UsccError) as info:
        validate_uscc(code, **kw)
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize(
    "code, reason",
    [
        ("", "length"),
        ("91440300192203821", "length"),  # 17 chars
        ("9144030019220382160", "length"),  # 19 chars
        ("91440300I92203821G", "charset"),  # I is excluded
        ("914403001922-38216", "charset"),
        ("91AB0300192203821G", "division"),
        ("919903001922038216", "division"),  # no province 99
        ("914403001922038226", "org_check"),  # 17th char altered
        ("914403001922038217", "check_char"),  # 18th char altered
        ("914403001922083216", "org_check"),  # transposed body digits
    ],
)
def test_invalid_codes_report_reason(code, reason):
    assert _reason(code).reason == reason


def test_non_string_rejected():
    assert _reason(914403001922038216).reason == "type"


def test_wrong_check_char_says_what_it_should_be():
    err = _reason("91330100716105852A")
    assert err.reason == "check_char"
    assert err.expected == "F"
    assert "check character" in str(err) and "F" in str(err)


def test_wrong_org_check_is_distinct_and_can_be_relaxed():
    first16 = "9133010071610585"
    first17 = first16 + "3"  # correct org check char is 2
    code = first17 + uscc_check_char(first17)  # final char consistent
    err = _reason(code)
    assert (err.reason, err.expected) == ("org_check", "2")
    assert validate_uscc(code, check_org_code=False) == code


def test_single_substitutions_are_always_caught():
    code = "9144030071526726XG"
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(18):
        for ch in alphabet:
            if ch == code[i]:
                continue
            with pytest.raises(UsccError):
                validate_uscc(code[:i] + ch + code[i + 1 :])


def test_make_uscc_builds_valid_codes():
    code = make_uscc("9", "1", "150624", "MA0Q7W3K")
    assert len(code) == 18 and validate_uscc(code) == code
    assert code.startswith("91150624MA0Q7W3K")


def test_make_uscc_rejects_bad_parts():
    with pytest.raises(UsccError) as info:
        make_uscc("9", "1", "15062", "MA0Q7W3K")
    assert info.value.reason == "length"
    with pytest.raises(UsccError) as info:
        make_uscc("9", "1", "150624", "MA0Q7W3O")  # O is excluded
    assert info.value.reason == "charset"


def test_check_char_known_values():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert org_check_char("M000100Y") == "4"
    assert org_check_char("71526726") == "X"
    with pytest.raises(UsccError):
        uscc_check_char("9135")
