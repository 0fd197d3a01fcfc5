"""The pure TOTP core: the ±1 step window, replay refusal, the encrypted secret, the QR code."""
import base64

import pytest

from wasteex.accounts import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_790_000_000.0  # a fixed instant
STEP = int(NOW // 30)


def test_current_code_and_one_step_either_side_are_accepted():
    for offset in (-1, 0, 1):
        assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP + offset), now=NOW) == STEP + offset


def test_codes_two_steps_away_are_refused():
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP - 2), now=NOW) is None
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP + 2), now=NOW) is None


def test_a_used_code_and_older_ones_cannot_be_replayed():
    code = totp.code_at(SECRET, STEP)
    step = totp.matching_step(SECRET, code, now=NOW)
    assert totp.matching_step(SECRET, code, last_step=step, now=NOW) is None
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP - 1), last_step=step, now=NOW) is None
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP + 1), last_step=step, now=NOW) == STEP + 1


@pytest.mark.parametrize("typed", ["", None, "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_codes_are_refused(typed):
    assert totp.matching_step(SECRET, typed, now=NOW) is None


def test_spaces_and_dashes_in_a_code_are_ignored():
    code = totp.code_at(SECRET, STEP)
    assert totp.matching_step(SECRET, f" {code[:3]} {code[3:]} ", now=NOW) == STEP
    assert totp.matching_step(SECRET, f"{code[:3]}-{code[3:]}", now=NOW) == STEP


def test_new_secrets_are_160_bit_base32_and_differ():
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b and len(base64.b32decode(a)) == 20


def test_secret_is_encrypted_and_keys_rotate():
    stored = totp.encrypt_secret(SECRET, ["old-key-material-long-enough"])
    assert SECRET not in stored
    assert totp.decrypt_secret(stored, ["new-key", "old-key-material-long-enough"]) == SECRET
    with pytest.raises(totp.SecretUnreadable):
        totp.decrypt_secret(stored, ["another-key"])
    fernet_key = base64.urlsafe_b64encode(bytes(range(32))).decode()
    assert totp.decrypt_secret(totp.encrypt_secret(SECRET, [fernet_key]), [fernet_key]) == SECRET


def test_provisioning_uri_and_qr_code():
    uri = totp.provisioning_uri(SECRET, "reg@gov.cn", "WasteEx")
    assert uri.startswith("otpauth://totp/WasteEx:reg%40gov.cn?") and f"secret={SECRET}" in uri
    qr = totp.qr_svg_data_uri(uri)
    assert qr.startswith("data:image/svg+xml")
    assert "<script" not in qr.lower()
