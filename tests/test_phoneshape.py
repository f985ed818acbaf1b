"""Formatting by shape gives exactly what phonenumbers gives, number by number, in every country."""
from __future__ import annotations

import random

import phonenumbers

from sheets_connector.inwise.wire import _local
from sheets_connector.phoneshape import by_shape, fill, filler, template
from sheets_connector.sync.feedrows import _format_written


def _numbers(seed: int = 21, per_type: int = 6) -> list[str]:
    """International digits of every region's example numbers (mobile and fixed line), with
    random last digits and lengths one digit either side: the shapes a feed holds, and the edges."""
    rng = random.Random(seed)
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is None:
                continue
            digits = f"{ex.country_code}{phonenumbers.national_significant_number(ex)}"
            for _ in range(per_type):
                tail = "".join(rng.choice("0123456789") for _ in range(4))
                out.append(digits[:-4] + tail)
            out += [digits + rng.choice("0123456789"), digits[:-1]]
    return out


def test_shaped_formats_equal_phonenumbers_for_every_region():
    numbers = _numbers()
    assert len(numbers) > 3000
    for region in ("IL", "US", "GB", "DE", "FR", "IN", None):
        shaped = by_shape(lambda d, r=region: _format_written(d, r))
        for digits in numbers:
            assert shaped(digits) == _format_written(digits, region), (region, digits)
    for code in ("972", "1", "44", "49", "39", "7"):
        shaped = by_shape(lambda d, c=code: _local(d, c))
        for digits in numbers:
            if digits.startswith(code):
                assert shaped(digits) == _local(digits, code), (code, digits)


def test_a_template_holds_the_tail_in_order():
    t = template("972541234567", "054-123-4567")
    assert t is not None and fill(t, "972549876543") == "054-987-6543"
    assert filler(t)("972549876543") == "054-987-6543"  # the same, as one %-format
    odd = template("12345678", "%1 2-345 678%")
    assert odd is not None and filler(odd)("87654321") == fill(odd, "87654321") == "%8 7-654 321%"
    assert template("972541234567", "054-123-0000") is None  # the tail is not in it: no template


def test_shapes_ask_phonenumbers_once():
    calls = []

    def fmt(d: str) -> str:
        calls.append(d)
        return _format_written(d, "IL") or ""

    shaped = by_shape(fmt)
    results = [shaped(f"9725412{i:05d}") for i in range(2000)]
    assert results[7] == "054-120-0007" and len(set(results)) == 2000
    assert len(calls) <= 20  # one per shape (the digits but the last four)
