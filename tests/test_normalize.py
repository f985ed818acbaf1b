"""Tests for sheets_connector.normalize: cell values -> email, mobile and personal-field text."""
from __future__ import annotations

import datetime as dt
import math
import pickle
from decimal import Decimal

import pytest

from sheets_connector.messages import msg
from sheets_connector.normalize import (
    MAX_SHOWN,
    ValueProblem,
    cache_info,
    calling_code_for,
    clean_text,
    clear_caches,
    date_pattern,
    email_key,
    format_field,
    is_blank,
    normalize_email,
    normalize_mobile,
    region_for,
)

# Every invisible mark the brief lists (plus the two extra ones the module removes).
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
    "\ufeff", "\u00ad", "\u061c", "\u2060",
]  # fmt: skip
# Unicode spaces that must become ordinary spaces.
SPACES = ["\u00a0", "\u202f", "\u2007", "\u2009", "\u2003", "\u3000", "\t", "\n", "\r\n"]


# ------------------------------------------------------------------------------------------
# clean_text / is_blank
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_clean_text_removes_invisible_mark(mark: str) -> None:
    assert clean_text(f"{mark} דנה{mark} כהן {mark}") == "דנה כהן"


@pytest.mark.parametrize("space", SPACES, ids=lambda c: f"U+{ord(c[0]):04X}")
def test_clean_text_turns_unicode_spaces_into_one_space(space: str) -> None:
    assert clean_text(f"{space}Dana{space}{space}Cohen{space}") == "Dana Cohen"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("  שלום   עולם  ", "שלום עולם"),
        ("line one\nline two", "line one line two"),
        ("a\x00b\x07c", "abc"),
        (541111111, "541111111"),
        (541111111.0, "541111111"),
        (12.5, "12.5"),
        (True, "TRUE"),
        (dt.date(1980, 5, 17), "17/05/1980"),
    ],
)
def test_clean_text(value: object, expected: str) -> None:
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ("\u00a0\u202f", True),
        ("\u200f\u200e\ufeff", True),
        ("\u2066 \u2069", True),
        ("x", False),
        (" 0 ", False),
        (0, False),
        (0.0, False),
        (False, False),
    ],
)
def test_is_blank(value: object, expected: bool) -> None:
    assert is_blank(value) is expected


# ------------------------------------------------------------------------------------------
# Emails
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dana@example.com", "dana@example.com"),
        (" dana@example.com\u00a0", "dana@example.com"),
        ("\u202fdana@example.com\u2009", "dana@example.com"),
        ("dana@EXAMPLE.COM", "dana@example.com"),
        ("Dana@Example.Co.IL", "Dana@example.co.il"),  # local part kept as typed
        ("DANA@Example.Com", "DANA@example.com"),
        ("dana+news@gmail.com", "dana+news@gmail.com"),
        ("mailto:dana@example.com", "dana@example.com"),
        ("MAILTO: dana@example.com", "dana@example.com"),
        ("mailto:dana@example.com?subject=hello", "dana@example.com"),
        ("<dana@example.com>", "dana@example.com"),
        ("Dana Cohen <dana@example.com>", "dana@example.com"),
        ('"Cohen, Dana" <dana@example.com>', "dana@example.com"),
        ("דנה כהן <dana@example.com>", "dana@example.com"),
        ("<mailto:dana@example.com>", "dana@example.com"),
        ('"dana@example.com"', "dana@example.com"),
        ("'dana@example.com'", "dana@example.com"),
        ("dana@example.com;", "dana@example.com"),
        ("dana@example.com,", "dana@example.com"),
        ("dana@mañana.com", "dana@mañana.com"),  # IDN domain, Unicode form
        ("dana@MAÑANA.COM", "dana@mañana.com"),
        ("dana@xn--maana-pta.com", "dana@mañana.com"),  # punycode input -> same normal form
        ("dana@טסט.קום", "dana@טסט.קום"),
        ("dana\u200e@example.com\u200f", "dana@example.com"),
    ],
)
def test_normalize_email_accepts(value: str, expected: str) -> None:
    assert normalize_email(value) == expected


@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_normalize_email_ignores_invisible_mark(mark: str) -> None:
    assert normalize_email(f"{mark}dana{mark}@example.com{mark}") == "dana@example.com"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "the cell is empty"),
        ("   ", "the cell is empty"),
        ("dana", "the @ is missing"),
        ("dana.example.com", "the @ is missing"),
        ("dana@", "nothing after the @"),
        ("@example.com", "nothing before the @"),
        ("dana@@example.com", "more than one @"),
        ("dana@cohen@example.com", "more than one @"),
        ("dana@example.com, avi@example.com", "more than one email address in one cell"),
        ("dana@example.com avi@example.com", "more than one email address in one cell"),
        ("dana cohen@example.com", "has a space in it"),
        ("dana@exa mple.com", "has a space in it"),
        ("dana\u00a0@example.com", "has a space in it"),
        ("dana@example.com.", "ends with a dot"),
        (".dana@example.com", "starts with a dot"),
        ("dana.@example.com", "has a dot just before the @"),
        ("da..na@example.com", "has two dots in a row"),
        ("dana@example..com", "has two dots in a row"),
        ("dana@example", 'the part after the @ needs a dot, like "example.com"'),
        ("dana@localhost", 'the part after the @ needs a dot, like "example.com"'),
        ("dana@example.test", "a reserved name, not a real domain"),
        ("dana@example.local", "a reserved name, not a real domain"),
        ("dana@example_one.com", "has a character an email address cannot contain (_)"),
        ("dana@example.com;avi", "has a character an email address cannot contain (;)"),
        ("#N/A", "spreadsheet error"),
        ("#REF!", "spreadsheet error"),
    ],
)
def test_normalize_email_refuses_with_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as info:
        normalize_email(value)
    problem = info.value
    assert problem.kind == "email"
    assert reason in str(problem)
    assert str(problem).startswith(f'invalid email "{clean_text(value)}": ')


@pytest.mark.parametrize("value", [541111111, 12.5, True, dt.date(2024, 1, 1)])
def test_normalize_email_refuses_non_text(value: object) -> None:
    with pytest.raises(ValueProblem, match="not an email address"):
        normalize_email(value)


def test_normalize_email_none_is_empty() -> None:
    with pytest.raises(ValueProblem, match="the cell is empty"):
        normalize_email(None)


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Dana@example.com", "dana@example.com"),
        ("DANA@EXAMPLE.COM", "dana@example.com"),
        ("dana@mañana.com", "dana@mañana.com"),
    ],
)
def test_email_key(email: str, key: str) -> None:
    assert email_key(email) == key


def test_email_key_matches_differently_typed_addresses() -> None:
    assert email_key(normalize_email(" DANA@Example.COM ")) == email_key(normalize_email("dana@example.com"))


# ------------------------------------------------------------------------------------------
# Regions
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("IL", "IL"),
        ("il", "IL"),
        (" IL ", "IL"),
        ("972", "IL"),
        ("+972", "IL"),
        ("00972", "IL"),
        (972, "IL"),
        ("US", "US"),
        ("1", "US"),
        ("+1", "US"),
        ("GB", "GB"),
        ("UK", "GB"),
        ("44", "GB"),
        ("de", "DE"),
    ],
)
def test_region_for(country: str, region: str) -> None:
    assert region_for(country) == region


@pytest.mark.parametrize("country", ["", "XX", "Israel", "999", "+800", "9720", "I L"])
def test_region_for_unknown(country: str) -> None:
    with pytest.raises(ValueError, match="unknown country") as info:
        region_for(country)
    assert not isinstance(info.value, ValueProblem)  # a config error, not a row problem
    assert '"IL"' in str(info.value) and '"972"' in str(info.value)


@pytest.mark.parametrize(
    ("region", "code"), [("IL", "972"), ("il", "972"), ("US", "1"), ("GB", "44"), ("+972", "972")]
)
def test_calling_code_for(region: str, code: str) -> None:
    assert calling_code_for(region) == code


def test_calling_code_for_unknown() -> None:
    with pytest.raises(ValueError, match="unknown country"):
        calling_code_for("ZZ")


# ------------------------------------------------------------------------------------------
# Mobiles
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        # the brief's MUST-accept list
        ("0541111111", "IL", "972541111111"),  # inwise's own example; is_valid_number says no
        ("972541111111", "IL", "972541111111"),  # code already there: not added twice
        ("+972 54-111-1111", "IL", "972541111111"),
        ("00972541111111", "IL", "972541111111"),
        (541111111, "IL", "972541111111"),  # Excel dropped the leading zero
        (972541111111, "IL", "972541111111"),
        (972541111111.0, "IL", "972541111111"),
        (541111111.0, "IL", "972541111111"),  # python-calamine gives numbers as floats
        (9.72541111111e11, "IL", "972541111111"),
        ("9.72541111111E+11", "IL", "972541111111"),
        ("9.72541111111e11", "IL", "972541111111"),
        ("972541111111.0", "IL", "972541111111"),
        ("541111111.0", "IL", "972541111111"),
        ("054\u200f1111111", "IL", "972541111111"),
        ("054\u00a0111\u00a01111", "IL", "972541111111"),
        ("0521234567", "IL", "972521234567"),
        ("0501234567", "IL", "972501234567"),
        ("0547654321", "IL", "972547654321"),
        ("504-621-8927", "US", "15046218927"),  # FIXED_LINE_OR_MOBILE
        ("+1 504 621 8927", "IL", "15046218927"),
        ("+44 7911 123456", "IL", "447911123456"),
        # more shapes people type
        ("054-111-1111", "IL", "972541111111"),
        ("054.111.1111", "IL", "972541111111"),
        ("054.1111111", "IL", "972541111111"),
        ("(054) 111-1111", "IL", "972541111111"),
        ("+972 (0) 54 111 1111", "IL", "972541111111"),
        ("+972-54–111–1111", "IL", "972541111111"),  # en dashes
        ("tel:+972541111111", "IL", "972541111111"),
        ("TEL: 054-1111111", "IL", "972541111111"),
        ("٠٥٤١١١١١١١", "IL", "972541111111"),  # Arabic-Indic digits
        ("０５４１１１１１１１", "IL", "972541111111"),  # fullwidth digits
        (Decimal("972541111111"), "IL", "972541111111"),
        ("0541111111", "il", "972541111111"),  # region in any case
        ("0541111111", "972", "972541111111"),  # region as calling code
        ("(504) 621-8927", "US", "15046218927"),
        ("1-504-621-8927", "US", "15046218927"),
        ("15046218927", "US", "15046218927"),
        ("011 972 54 111 1111", "US", "972541111111"),  # the US international prefix
        ("00972541111111", "US", "972541111111"),  # 00 understood even where the IDD is 011
        ("07911 123456", "GB", "447911123456"),
        ("7911123456", "GB", "447911123456"),  # leading zero lost
    ],
)
def test_normalize_mobile_accepts(value: object, region: str, expected: str) -> None:
    assert normalize_mobile(value, region) == expected


def test_normalize_mobile_default_region_is_israel() -> None:
    assert normalize_mobile("0541111111") == "972541111111"


@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_normalize_mobile_ignores_invisible_mark(mark: str) -> None:
    assert normalize_mobile(f"{mark}+972{mark}54{mark}1111111{mark}", "IL") == "972541111111"


@pytest.mark.parametrize("space", SPACES, ids=lambda c: f"U+{ord(c[0]):04X}")
def test_normalize_mobile_ignores_unicode_space(space: str) -> None:
    assert normalize_mobile(f"{space}054{space}111{space}1111{space}", "IL") == "972541111111"


@pytest.mark.parametrize(
    ("value", "region", "reason"),
    [
        # the brief's MUST-refuse list
        ("12345", "IL", "too short for a mobile number"),
        ("2262649", "US", "a local number without the area code"),  # IS_POSSIBLE_LOCAL_ONLY
        ("054111111", "IL", "too short for a mobile number"),  # 9 digits
        ("026251111", "IL", "a landline number, not a mobile"),  # Jerusalem, FIXED_LINE
        ("77352211561150", "US", "too long for a mobile number"),  # run-on
        ("abc", "IL", "not a phone number"),
        ("12.5", "IL", "a decimal number, not a phone number"),
        ("", "IL", "the cell is empty"),
        # more
        ("   \u200f ", "IL", "the cell is empty"),
        ("02-6251111", "IL", "a landline number, not a mobile"),
        ("97226251111", "IL", "a landline number, not a mobile"),
        ("+972 2-625-1111", "IL", "a landline number, not a mobile"),
        ("+44 20 7946 0958", "IL", "a landline number, not a mobile"),  # fits a mobile's length
        ("0771234567", "IL", "an internet (VoIP) number, not a mobile"),
        ("1-800-275-2273", "US", "a toll-free number, not a mobile"),
        ("0212345678", "IL", "no phone number in Israel looks like this"),
        ("7695753", "AT", "no phone number in Austria looks like this"),  # possible, not valid, no newer range
        ("+437695753", "IL", "no phone number in Austria looks like this"),  # nobody chose Austria
        ("+15555550123", "IL", "no phone number in United States looks like this"),
        ("504-621-8927 / 504-845-1427", "US", "more than one number in one cell"),
        ("504-621-8927 ext 12", "US", "remove the extension"),
        ("504-621-8927 x12", "US", "remove the extension"),
        ("972541234567", "US", "if it is a number from Israel, write + in front (+972541234567)"),
        ("0541111111", None, "write + and the country code in front"),
        ("05411111111", "IL", "too long for a mobile number"),
        ("9725411111111", "IL", "too long for a mobile number"),
        ("5046218927", "IL", "too long for a mobile number"),  # US number without +1 in IL
        ("+999 123 4567", "IL", "unknown country code"),
        ("+", "IL", "not a phone number"),
        ("---", "IL", "not a phone number"),
        ("054-1111111 ext 12", "IL", "remove the extension"),
        ("נייד 0541111111", "IL", "not a phone number (it has letters in it)"),
        ("054-1111111, 052-2222222", "IL", "more than one number in one cell"),
        ("054-1111111; 052-2222222", "IL", "more than one number in one cell"),
        ("0541111111+", "IL", "not a phone number"),
        ("0.5", "IL", "a decimal number, not a phone number"),
        ("541111111.5", "IL", "a decimal number, not a phone number"),
        ("9.725411111115E+11", "IL", "a decimal number, not a phone number"),
        ("9.72541E+11", "IL", "digits may be missing"),  # Sheets' FORMATTED_VALUE lost digits
        ("5.41E+8", "IL", "digits may be missing"),
        ("1E+999999", "IL", "too long for a mobile number"),  # no million-digit conversion
        ("#N/A", "IL", "spreadsheet error"),
        ("#VALUE!", "IL", "spreadsheet error"),
    ],
)
def test_normalize_mobile_refuses_with_reason(value: str, region: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as info:
        normalize_mobile(value, region)
    problem = info.value
    assert problem.kind == "mobile"
    assert problem.value == clean_text(value)
    assert str(problem) == f'invalid mobile "{clean_text(value)}": {problem.reason}'
    assert reason in str(problem.reason)


@pytest.mark.parametrize(
    ("value", "shown", "reason"),
    [
        (12.5, "12.5", "a decimal number, not a phone number"),
        (541111111.5, "541111111.5", "a decimal number, not a phone number"),
        (Decimal("5.5"), "5.5", "a decimal number, not a phone number"),
        (12345, "12345", "too short for a mobile number"),
        (12345.0, "12345", "too short for a mobile number"),
        (-541111111, "-541111111", "not a phone number"),
        (-541111111.0, "-541111111", "not a phone number"),
        (math.nan, "nan", "not a phone number"),
        (math.inf, "inf", "not a phone number"),
        (True, "TRUE", "not a phone number"),
        (False, "FALSE", "not a phone number"),
        (None, "", "the cell is empty"),
        (dt.date(2024, 1, 31), "31/01/2024", "not a phone number"),
        pytest.param(Decimal("1E+5000"), "1" + "0" * (MAX_SHOWN - 2) + "…", "too long for a mobile number", id="huge-decimal"),
        pytest.param(10**500, "1" + "0" * (MAX_SHOWN - 2) + "…", "too long for a mobile number", id="huge-int"),
    ],
)
def test_normalize_mobile_refuses_numeric_cells(value: object, shown: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as info:
        normalize_mobile(value, "IL")
    assert str(info.value) == f'invalid mobile "{shown}": {reason}'


def test_normalize_mobile_unknown_region_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown country") as info:
        normalize_mobile("0541111111", "XX")
    assert not isinstance(info.value, ValueProblem)


# The measured table of the project's contact-data notes: (input, region, E.164 digits or None).
CONTACT_DATA_TABLE = [
    ("0541111111", "IL", "972541111111"),  # possible, not valid, possible as mobile -> accept
    ("0547654321", "IL", "972547654321"),  # valid MOBILE -> accept
    ("026251111", "IL", None),  # valid FIXED_LINE -> refuse
    ("054111111", "IL", None),  # 9 digits, not possible as mobile -> refuse
    ("2262649", "US", None),  # IS_POSSIBLE_LOCAL_ONLY -> refuse
    ("504-621-8927", "US", "15046218927"),  # valid FIXED_LINE_OR_MOBILE -> accept
    ("77352211561150", "US", None),  # TOO_LONG -> refuse
]


@pytest.mark.parametrize(("value", "region", "expected"), CONTACT_DATA_TABLE)
def test_contact_data_table(value: str, region: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueProblem):
            normalize_mobile(value, region)
    else:
        assert normalize_mobile(value, region) == expected


# ------------------------------------------------------------------------------------------
# Messages
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "value", "message"),
    [
        (normalize_mobile, "12345", 'invalid mobile "12345": too short for a mobile number'),
        (normalize_email, "dana@", 'invalid email "dana@": nothing after the @'),
        (normalize_mobile, "\u200f054-111\u00a0111\u200e", 'invalid mobile "054-111 111": too short for a mobile number'),
        (normalize_email, "\u202bdana@\u202c", 'invalid email "dana@": nothing after the @'),
        (format_field, "#DIV/0!", 'invalid value "#DIV/0!": the cell shows a spreadsheet error, not a value (fix the formula or type the value)'),
    ],
)  # fmt: skip
def test_message_quotes_cleaned_value_and_reason(call: object, value: str, message: str) -> None:
    with pytest.raises(ValueProblem) as info:
        call(value)  # type: ignore[operator]
    assert str(info.value) == message


def test_message_has_no_library_jargon() -> None:
    words = ("@-sign", "NumberParseException", "IS_POSSIBLE", "TOO_SHORT", "FIXED_LINE", "E.164", "SMTP")
    values = ["dana", "dana@", "a@@b.com", "dana@x", "da..na@x.com", "dana@example.test"]
    mobiles = ["12345", "026251111", "77352211561150", "abc", "+999 1234567"]
    messages = []
    for value in values:
        with pytest.raises(ValueProblem) as info:
            normalize_email(value)
        messages.append(str(info.value))
    for value in mobiles:
        with pytest.raises(ValueProblem) as info:
            normalize_mobile(value, "IL")
        messages.append(str(info.value))
    for message in messages:
        assert not any(word in message for word in words), message


def test_message_truncates_long_values() -> None:
    value = "dana.cohen.from.the.marketing.department.of.a.very.long.company@"
    with pytest.raises(ValueProblem) as info:
        normalize_email(value)
    problem = info.value
    assert len(problem.value) == MAX_SHOWN
    assert problem.value.endswith("…")
    assert value.startswith(problem.value[:-1])
    assert str(problem) == f'invalid email "{problem.value}": nothing after the @'


def test_value_problem_is_a_value_error_and_pickles() -> None:
    problem = ValueProblem("mobile", "12345", msg("mobile.too_short"))
    assert isinstance(problem, ValueError)
    copy = pickle.loads(pickle.dumps(problem))
    assert (copy.kind, copy.value, copy.reason) == ("mobile", "12345", msg("mobile.too_short"))
    assert str(copy) == str(problem) == 'invalid mobile "12345": too short for a mobile number'


# ------------------------------------------------------------------------------------------
# Caching
# ------------------------------------------------------------------------------------------
def test_cache_does_not_leak_between_regions() -> None:
    clear_caches()
    assert normalize_mobile("541111111", "IL") == "972541111111"
    with pytest.raises(ValueProblem):
        normalize_mobile("541111111", "US")
    assert normalize_mobile("5046218927", "US") == "15046218927"
    with pytest.raises(ValueProblem, match="too long"):
        normalize_mobile("5046218927", "IL")
    # and again, now every answer comes from the cache
    assert normalize_mobile("5046218927", "US") == "15046218927"
    assert normalize_mobile("541111111", "IL") == "972541111111"
    with pytest.raises(ValueProblem):
        normalize_mobile("541111111", "US")
    assert normalize_mobile("07911 123456", "GB") == "447911123456"
    with pytest.raises(ValueProblem):
        normalize_mobile("07911 123456", "IL")
    assert cache_info()["mobile"].hits >= 3


def test_repeated_values_are_served_from_the_cache() -> None:
    clear_caches()
    calls = 20_000
    mobiles = ["0541111111", 541111111, "054\u200f111\u00a01111", "12345"]
    emails = [" dana@example.com\u00a0", "DANA@example.com", "dana@"]
    for i in range(calls):
        try:
            normalize_mobile(mobiles[i % len(mobiles)], "IL")
        except ValueProblem:
            pass
        try:
            normalize_email(emails[i % len(emails)])
        except ValueProblem:
            pass
    mobile, email = cache_info()["mobile"], cache_info()["email"]
    # 541111111 and "054‏111 1111" clean to different texts than "0541111111": 4 distinct keys.
    assert mobile.misses == len(mobiles)
    assert mobile.hits == calls - len(mobiles)
    # " dana@example.com " cleans to "dana@example.com"; 3 distinct keys.
    assert email.misses == len(emails)
    assert email.hits == calls - len(emails)


def test_cached_problems_are_fresh_exceptions() -> None:
    clear_caches()
    problems = []
    for _ in range(3):
        with pytest.raises(ValueProblem) as info:
            normalize_mobile("12345", "IL")
        problems.append(info.value)
    assert len({id(p) for p in problems}) == 3
    assert {str(p) for p in problems} == {'invalid mobile "12345": too short for a mobile number'}


# ------------------------------------------------------------------------------------------
# Personal fields
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  דנה\u200f  כהן\u00a0", "דנה כהן"),
        ("Tel Aviv\nIsrael", "Tel Aviv Israel"),
        ("\ufeffשלום", "שלום"),
        (0, "0"),
        (1980, "1980"),
        (-5, "-5"),
        (10**20, "100000000000000000000"),
        (1980.0, "1980"),
        (1e16, "10000000000000000"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e-05, "0.00001"),
        (123456789.123, "123456789.123"),
        (Decimal("12.50"), "12.5"),
        (Decimal("1980"), "1980"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.date(1980, 5, 17), "17/05/1980"),
        (dt.datetime(1980, 5, 17), "17/05/1980"),
        (dt.datetime(2024, 1, 31, 13, 5), "31/01/2024 13:05"),
        (dt.datetime(2024, 1, 31, 13, 29, 59, 999600), "31/01/2024 13:30"),  # Excel float noise
        (dt.datetime(2024, 1, 31, 23, 59, 59, 999900), "01/02/2024"),
        (dt.time(13, 30), "13:30"),
        (dt.time(8, 5, 59), "08:05"),
        (dt.time(13, 29, 59, 999999), "13:30"),
        (dt.timedelta(hours=26, minutes=30), "26:30"),
        (dt.timedelta(minutes=1, seconds=5), "0:01:05"),
    ],
)
def test_format_field(value: object, expected: str) -> None:
    assert format_field(value) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (dt.date(1980, 5, 17), {"date_format": "%Y-%m-%d"}, "1980-05-17"),
        (dt.date(1980, 5, 17), {"date_format": "%m/%d/%Y"}, "05/17/1980"),
        (dt.datetime(1980, 5, 17), {"date_format": "%d.%m.%y"}, "17.05.80"),
        (dt.datetime(1980, 5, 17, 9, 30), {"date_format": "%Y-%m-%d"}, "1980-05-17 09:30"),
        (dt.datetime(1980, 5, 17, 9, 30), {"datetime_format": "%d/%m/%Y %H:%M:%S"}, "17/05/1980 09:30:00"),
        (dt.datetime(1980, 5, 17), {"datetime_format": "%d/%m/%Y %H:%M"}, "17/05/1980"),
    ],
)
def test_format_field_formats(value: object, kwargs: dict[str, str], expected: str) -> None:
    assert format_field(value, **kwargs) == expected


@pytest.mark.parametrize("value", ["#N/A", "#DIV/0!", "#ref!", "#NAME?", " #VALUE! ", "#ERROR!"])
def test_format_field_refuses_spreadsheet_errors(value: str) -> None:
    with pytest.raises(ValueProblem) as info:
        format_field(value)
    assert info.value.kind == "field"
    assert "spreadsheet error" in str(info.value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_format_field_refuses_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueProblem, match="not a number"):
        format_field(value)


# ------------------------------------------------------------------------------------------
# Date patterns
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("friendly", "pattern"),
    [
        ("dd/mm/yyyy", "%d/%m/%Y"),
        ("yyyy-mm-dd", "%Y-%m-%d"),
        ("mm/dd/yyyy", "%m/%d/%Y"),
        ("dd.mm.yy", "%d.%m.%y"),
        ("DD/MM/YYYY", "%d/%m/%Y"),
        (" dd-mm-yyyy ", "%d-%m-%Y"),
        ("dd/mm/yyyy hh:mm", "%d/%m/%Y %H:%M"),
        ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S"),
        ("hh:mm dd/mm/yyyy", "%H:%M %d/%m/%Y"),
        ("dd/mm/yyyy HH:MM", "%d/%m/%Y %H:%M"),  # the config's default results time format
        ("dd/MM/yyyy HH:mm", "%d/%m/%Y %H:%M"),  # Java-style case: still month vs minutes by place
        ("%d/%m/%Y", "%d/%m/%Y"),
        ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M"),
        ("%d %B %Y", "%d %B %Y"),
    ],
)
def test_date_pattern(friendly: str, pattern: str) -> None:
    assert date_pattern(friendly) == pattern
    assert dt.date(2024, 1, 31).strftime(date_pattern(friendly))


@pytest.mark.parametrize(
    ("fmt", "says"),
    [
        ("", "empty date format"),
        ("   ", "empty date format"),
        ("d/m/yyyy", 'not understood (at "d")'),
        ("dd/mm/yyyyy", 'not understood (at "y")'),
        ("dd_mm_yyyy", 'not understood (at "_")'),
        ("date", "not understood"),
        ("hh:mm", "no day, month or year"),
        ("%Q", '"%Q"'),
        ("%-d/%m/%Y", '"%-"'),
        ("%H:%M", "does not show a date"),
        ("%d/%m/%", '"%"'),
    ],
)
def test_date_pattern_errors(fmt: str, says: str) -> None:
    with pytest.raises(ValueError) as info:
        date_pattern(fmt)
    message = str(info.value)
    assert says in message
    assert '"dd/mm/yyyy"' in message and '"yyyy-mm-dd"' in message  # lists examples


@pytest.mark.parametrize("text", ["Sync result", "  sync result ", "SYNC\u00a0 RESULT", "\u200fSync result\u200e", "sync\tresult"])
def test_header_key_is_one_rule_for_every_header(text):
    from sheets_connector.normalize import header_key

    assert header_key(text) == "sync result"


def test_newer_ranges_are_the_only_leniency_and_a_mapping_widens_them() -> None:
    # Israeli 05x numbers phonenumbers does not list yet: accepted (the default newer range)
    assert normalize_mobile("0589123456", "IL") == "972589123456"
    assert normalize_mobile("+972 55-111-1111", "US") == "972551111111"
    # the same leniency is not given to a country outside the list
    with pytest.raises(ValueProblem, match="Austria"):
        normalize_mobile("+43 769 5753", "IL")
    # ... unless the mapping lists its range
    assert normalize_mobile("+43 769 5753", "IL", newer_ranges=("+9725", "+43769")) == "437695753"
    # a landline-shaped Israeli number stays refused, newer range or not
    with pytest.raises(ValueProblem):
        normalize_mobile("0212345678", "IL", newer_ranges=("+972",))
    # and with no leniency at all, inwise's example is refused by the library's data
    with pytest.raises(ValueProblem, match="Israel"):
        normalize_mobile("0541111111", "IL", newer_ranges=())


# ------------------------------------------------------------------------------------------
# Fast paths for clean cells: the same answers as the general path
# ------------------------------------------------------------------------------------------
def _general_clean_text(value: str) -> str:
    """clean_text as it was before its ASCII shortcut: every character through the drop table."""
    from sheets_connector.normalize.values import _CONTROL, _INVISIBLE

    return " ".join(value.translate(str.maketrans(dict.fromkeys(_INVISIBLE + _CONTROL))).split())


ASCII_TEXTS = ["Dana", " Dana", "Dana ", "Dana  Cohen", "a\tb", "a\x00b", "x\x7fy", "  ", "", "054-111 1111",
               "\x1c\x1d", "a\x0bb\x0cc", "dana@example.com", "#N/A", "Err:502", "mailto:a@b.com"]


@pytest.mark.parametrize("text", ASCII_TEXTS + ["דנה\u00a0כהן", "\u200fדנה ", "a\u2060b", "\u3000x"] + INVISIBLE + SPACES)
def test_clean_text_and_is_blank_shortcuts_agree_with_the_drop_table(text):
    assert clean_text(text) == _general_clean_text(text)
    assert is_blank(text) == (not _general_clean_text(text))


def test_every_character_is_dropped_or_kept_as_before():
    for code in range(0x3000):
        ch = chr(code)
        assert clean_text(f"a{ch}b") == _general_clean_text(f"a{ch}b"), hex(code)


PLAIN_NUMBERS = ["0541111111", "054-1111111", "054 111 1111", "+972 54-111-1111", "+972541111111", "00972541111111",
                 "972541111111", "541111111", "1", "0", "+1 504-555-0123", "+44 7911 123456", "0-5-4", "2262649",
                 "05--41111111", "0541111111 ", "+0541111111", "0033 6 12 34 56 78", "+972 2-625-1111",
                 "1234567890123456789012345678901234", "8 800 555 35 35"]


@pytest.mark.parametrize("text", PLAIN_NUMBERS)
def test_the_plain_number_shortcut_gives_what_the_full_clean_up_gives(text):
    from sheets_connector.normalize.phones import _compact_number, _plain_number

    assert _plain_number(text) is not None
    assert _plain_number(text) == _compact_number(text)


def test_number_type_stands_for_is_valid_number_and_possibility_is_asked_per_length():
    import phonenumbers

    from sheets_connector.normalize.phones import _POSSIBLE, _possible

    samples = ["+972541111111", "+972501234567", "+97226251111", "+9725411111", "+97254111111111", "+15045550123",
               "+12015550123", "+447911123456", "+442079460000", "+33612345678", "+8613800138000", "+80012345678",
               "+972800123456", "+97212345", "+61412345678", "+4915112345678", "+390612345678", "+3906123456789"]
    for text in samples:
        number = phonenumbers.parse(text)
        assert (phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.UNKNOWN) == \
            phonenumbers.is_valid_number(number), text
        _POSSIBLE.clear()
        fresh = _possible(number)
        assert fresh == (phonenumbers.is_possible_number_with_reason(number),
                         phonenumbers.is_possible_number_for_type_with_reason(number, phonenumbers.PhoneNumberType.MOBILE))
    for text in samples:  # answers kept from other numbers of the same code and length
        number = phonenumbers.parse(text)
        assert _possible(number) == (phonenumbers.is_possible_number_with_reason(number),
                                     phonenumbers.is_possible_number_for_type_with_reason(
                                         number, phonenumbers.PhoneNumberType.MOBILE)), text


def _answer(f, *args, **kwargs):
    try:
        return f(*args, **kwargs)
    except ValueProblem as e:
        return ("problem", str(e))


VARIED_EMAILS = ["dana@example.com", " Dana@Example.COM ", "mailto:dana@example.com", "Dana <dana@example.com>",
                 '"dana@example.com"', "dana@example.com;", "dana@@example.com", "dana", "dana@", "@example.com",
                 "dana@example", "dana@example.com?subject=hi", "\u200fdana@example.com\u200e", "דנה@דוגמה.ישראל",
                 "a b@example.com", "dana@exa mple.com", "#N/A", "", "   ", None, 5, True, "DANA@EXAMPLE.COM",
                 "a@b.c", "x" * 70 + "@example.com", "dana@example.com, noa@example.com", "'dana@example.com'"]
VARIED_MOBILES = ["054-1111111", "0541111111", "+972 54-111-1111", "972541111111", 541111111, 972541111111.0,
                  "9.72541111111E+11", "972541111111.0", "054.1111111", "12.5", 12.5, "2262649", "02-6251111",
                  "+1 504-555-0123", "+44 7911 123456", "054-1111111 ext 12", "054-1111111 / 052-2222222",
                  "tel:054-1111111", "054-111111a", "\u200e054\u00a01111111", "٠٥٤١١١١١١١", "", None, True, -541111111,
                  10**16, 1e16, float("nan"), float("inf"), Decimal("541111111"), 0, 0.0, -0.0, "00972541111111",
                  "+972 (0) 54 111 1111", "#VALUE!", "0501234567", "0559876543", "972-54-111-1111"]


@pytest.mark.parametrize("region", ["IL", "US", None])
def test_known_email_and_known_mobile_give_the_general_answers(region):
    from sheets_connector.normalize import known_email, known_mobile
    from sheets_connector.tables.base import CellError

    # None: "ask the general path" (a problem, a blank cell, a kind of value the fast path leaves to it)
    for value in VARIED_EMAILS + [CellError("#N/A")]:
        general = _answer(normalize_email, value)
        expected = None if isinstance(general, tuple) else general
        assert known_email(value) == (expected if type(value) is str else None), value
    fast_hits = 0
    for value in VARIED_MOBILES + [CellError("#REF!")]:
        general = _answer(normalize_mobile, value, region)
        expected = None if isinstance(general, tuple) else general
        fast = known_mobile(value, region)
        assert fast is None or fast == expected, value
        if type(value) in (str, int, float) and expected is not None:
            assert fast == expected, value
            fast_hits += 1
    assert fast_hits >= (8 if region == "IL" else 3)


def test_field_texts_give_what_format_field_gives():
    from sheets_connector.normalize import FieldTexts
    from sheets_connector.tables.base import CellError

    values = ["Dana", " דנה  כהן ", "\u200fTel Aviv", "#N/A", "#div/0!", "", "  ", "\u200f", None, 0, 5, -3, 10**20, 12.5,
              97.0, 1e16, -0.0, float("nan"), float("inf"), True, False, dt.date(1980, 6, 12), dt.datetime(1980, 6, 12),
              dt.datetime(1980, 6, 12, 13, 29, 59, 999_600), dt.time(8, 30), dt.timedelta(hours=26), Decimal("1.50"),
              CellError("#REF!")]
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        texts = FieldTexts(7, pattern, limit=8)
        for _ in range(3):  # first sight, then remembered (and forgotten when full)
            for value in values:
                general = _answer(format_field, value, date_format=pattern)
                fast = texts.pair(value)
                if fast == ():
                    assert general == "", value
                elif fast is not None:
                    assert fast == (7, general), (value, pattern)
                if (type(value) is str and not isinstance(general, tuple)) or type(value) in (int, dt.date):
                    assert fast is not None, value


def test_country_names_are_phonenumbers_own_without_loading_its_place_names():
    import subprocess
    import sys

    from sheets_connector.normalize import country_name

    # in a fresh process: naming a country does not load phonenumbers.geodata (100 MB)
    code = ("import sys; from sheets_connector.normalize import country_name; "
            "print(country_name('IL'), country_name('IL', 'he'), 'phonenumbers.geodata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["Israel", "ישראל", "False"]
    import phonenumbers
    from phonenumbers.geocoder import _region_display_name

    for region in sorted(phonenumbers.SUPPORTED_REGIONS) + ["XK", "ZZ", ""]:
        for language in ("en", "he", "fr", "ar", "xx"):
            expected = _region_display_name(region, language) if region else ""
            if not expected and language != "en":
                expected = _region_display_name(region, "en")
            assert country_name(region, language) == (expected or region or "that country"), (region, language)


def test_domains_remembered_for_our_calls_give_the_library_answers():
    import email_validator

    from sheets_connector.normalize import emails

    domains = ["example.com", "EXAMPLE.com", "example.co.il", "דוגמה.ישראל", "münchen.de", "xn--mnchen-3ya.de",
               "xn--abc.com", "example", "localhost", "example.invalid", "test", "x.test", "a" * 64 + ".com",
               ".".join(["a" * 60] * 3) + ".com", ".".join(["b" * 60] * 4) + ".com", "exa mple.com", "example.com.",
               ".example.com", "-x.com", "ex_ample.com", "1.2.3.4", "[1.2.3.4]", "ab--c.com", "e\u200dxample.com"]
    # the local part and the whole address's length are checked for every address, the domain's answer reused
    local_parts = ["dana", "Dana.Cohen", "x" * 64, "x" * 65, "d..a", "דנה", "postmaster", '"da na"']
    addresses = [f"{local}@{domain}" for domain in domains for local in local_parts]

    def answer(validate, address):
        try:
            return validate(address)
        except email_validator.EmailNotValidError as e:
            return ("refused", str(e))

    clear_caches()
    library = [answer(lambda a: email_validator.validate_email(a, check_deliverability=False).normalized, a)
               for a in addresses]
    assert not emails._DOMAINS  # anyone else's call: the library's own check, nothing kept
    assert sum(isinstance(x, str) for x in library) > 20 and sum(isinstance(x, tuple) for x in library) > 20
    for _ in range(2):  # domains asked, then domains remembered
        assert [answer(emails._validate, a) for a in addresses] == library
    assert 5 <= len(emails._DOMAINS) < len(domains)
    warm = [_answer(normalize_email, a) for a in addresses]
    cold = []
    for a in addresses:
        clear_caches()
        cold.append(_answer(normalize_email, a))
    assert warm == cold
