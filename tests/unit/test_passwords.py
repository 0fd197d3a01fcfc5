import pytest

from wasteex.accounts.passwords import hash_password, password_problem, verify_password


@pytest.mark.parametrize("password", ["short", "x" * 11, "password1234", "qwertyuiop12", "a" * 129])
def test_weak_or_out_of_range_passwords_are_refused(password):
    assert password_problem(password) is not None


def test_user_inputs_count_against_the_password():
    assert password_problem("alice@a.cn12", ("alice@a.cn",)) is not None


def test_long_passphrase_is_accepted_and_not_truncated():
    phrase = "gangue and fly ash make good bricks " * 3  # 108 characters
    assert password_problem(phrase) is None
    stored = hash_password(phrase, "scrypt:1024:8:1")
    assert verify_password(stored, phrase)
    assert not verify_password(stored, phrase[:-1])
    assert stored.startswith("scrypt:")
