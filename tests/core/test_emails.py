import pytest

from hubtrail.core.emails import check_email, email_key, placeholder_reason


@pytest.mark.parametrize(
    "address",
    [
        "jane@example.com",
        "Jane.Doe+tag@Example.COM",
        "xyz@test.design",
        "a@b.vegas",
        "user@email.삼성",
    ],
)
def test_valid_addresses_are_accepted(address: str) -> None:
    check = check_email(address)
    assert check.valid, check.reason
    assert check.email is not None
    assert email_key(check.email) == email_key(address)


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("bcooper@example.con", "top-level domain"),
        ("tb.tb@yahoo.comtttt", "top-level domain"),
        ("example.lcom", "invalid"),
        ("dsfsafas@", "invalid"),
        ('"Test Email"@hubspot.com', "quoted"),
        ("user@localhost", "invalid"),
        ("", "empty"),
    ],
)
def test_invalid_addresses_say_why(address: str, fragment: str) -> None:
    check = check_email(address)
    assert not check.valid
    assert check.reason is not None
    assert fragment in check.reason


@pytest.mark.parametrize(
    "placeholder",
    [
        "{{email}}",
        "{{ contact.email }}",
        "undefined",
        "null",
        "None",
        "*|EMAIL|*",
        "%%email%%",
        "undefined@example.com",
        "${email}",
    ],
)
def test_placeholders_are_refused(placeholder: str) -> None:
    assert placeholder_reason(placeholder) is not None
    check = check_email(placeholder)
    assert not check.valid
    assert "placeholder" in (check.reason or "")


def test_real_addresses_are_not_placeholders() -> None:
    assert placeholder_reason("null.hypothesis@lab.org") is None
    assert placeholder_reason("email@company.com") is None


def test_email_key_folds_case_and_spaces() -> None:
    assert email_key("  Jane@Example.COM ") == "jane@example.com"
