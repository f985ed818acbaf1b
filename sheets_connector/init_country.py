"""The default country ``init`` proposes for numbers written without a country code, and why.

``guess_country`` reads a mobile column's cells: a country is proposed only when a clear
majority of the numbers are valid mobiles of that country (the connector's own rule, never
merely "possible" numbers) and no other country comes close; otherwise none is chosen and the
candidates are listed, so a wrong guess cannot become wrong data.  Split from
``init_mapping.py``, which uses the same tests of a cell to recognise the mobile column.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from .messages.catalog import CountryWords, msg, said
from .normalize import ValueProblem, clean_text, is_blank, normalize_mobile

__all__ = ["CANDIDATE_REGIONS", "DEFAULT_COUNTRY", "SAMPLE", "CountryGuess", "guess_country", "international_mobile",
           "mobiles_of"]

# Countries tried for numbers written without a country code, in order of preference on a tie.
CANDIDATE_REGIONS = ("IL", "US", "GB", "CA", "AU", "FR", "DE", "RU", "UA", "ES", "IT", "NL", "BE", "CH", "AT",
                     "SE", "IE", "ZA", "BR", "AR", "MX", "IN", "TR", "PL")
DEFAULT_COUNTRY = "IL"
SAMPLE = 200  # cells looked at per column: enough to recognise a column or a country


@dataclass(frozen=True)
class CountryGuess:
    region: str | None  # IL; None: no clear answer, the mapping chooses none and says why
    reason: str  # "28 of 30 numbers in 'נייד' are Israeli mobile numbers ...": a Said, printed in the language
    guessed: bool  # False: nothing to guess from (the default was kept), or no clear answer
    candidates: list[tuple[str, int]] = field(default_factory=list)  # (region, numbers that fit it), best first


def mobiles_of(values: Iterable[Any], region: str) -> tuple[int, str]:
    """How many cells are mobile numbers of ``region`` written without a country code; one example."""
    n, example = 0, ""
    for v in values:
        text = clean_text(v)
        if text.startswith(("+", "00")):
            continue
        try:
            normalize_mobile(v, region)
        except ValueProblem:
            continue
        n += 1
        example = example or text
    return n, example


def international_mobile(value: Any) -> str | None:
    """The region of a number written with its country code (+972..., 00972...), if it is a mobile."""
    text = clean_text(value)
    if not text.startswith(("+", "00")):
        return None
    try:
        digits = normalize_mobile(value, DEFAULT_COUNTRY)
    except ValueProblem:
        return None
    # the main country of the calling code (+44 -> GB, never Guernsey): the code is what the setting sets
    code = phonenumbers.parse("+" + digits).country_code
    return phonenumbers.region_code_for_country_code(code) if code else None


MAJORITY = 0.5  # more than this share of the numbers must be mobiles of one country to propose it
CLOSE = 0.5  # a second country with at least this share of the first one's numbers makes the guess unclear


def guess_country(values: Sequence[Any], header: str) -> CountryGuess:
    """The default country for local numbers, from a mobile column's cells, and why.

    A country is proposed only when more than half of the column's numbers are mobiles of that
    country by the connector's own rule (valid for phonenumbers, or in the documented newer
    ranges: never merely "possible") and no other country comes close; otherwise ``region`` is
    None (no country: numbers without a country code are refused until the user chooses one)
    and ``candidates`` lists what could be chosen, with the counts.
    """
    values = [v for v in values if not is_blank(v)][:SAMPLE]
    if not values:
        return CountryGuess(DEFAULT_COUNTRY, said("init.r_no_numbers", header=header, country=DEFAULT_COUNTRY), False)
    total = len(values)
    order = {r: i for i, r in enumerate(CANDIDATE_REGIONS)}
    fits: list[set[str]] = []  # per number: the countries (one per calling code) it is a mobile of
    examples: dict[str, str] = {}
    national: Counter[str] = Counter()
    for v in values:
        regions: set[str] = set()
        intl = international_mobile(v)
        if intl:
            regions.add(intl)
        else:
            for region in CANDIDATE_REGIONS:
                if mobiles_of([v], region)[0]:
                    regions.add(region)
                    examples.setdefault(region, clean_text(v))
                    national[region] += 1
        # US and Canada share +1: one country per calling code, the first in the list's order
        by_code: dict[int, str] = {}
        for region in sorted(regions, key=lambda r: order.get(r, len(order))):
            by_code.setdefault(phonenumbers.country_code_for_region(region), region)
        fits.append(set(by_code.values()))
    counts = Counter(r for f in fits for r in f)
    if not counts:
        return CountryGuess(None, said("init.r_no_mobiles", total=total, header=header), False)
    ranked = sorted(counts, key=lambda r: (-counts[r], order.get(r, len(order))))
    best, best_n = ranked[0], counts[ranked[0]]
    candidates = [(r, counts[r]) for r in ranked[:3]]
    words = CountryWords(best)
    like = msg("init.r_like", example=examples[best]) if best in examples else ""
    if best_n <= MAJORITY * total:
        why = said("init.r_no_majority", n=best_n, total=total, header=header, words=words, like=like)
        return CountryGuess(None, why, False, candidates)
    # Numbers that fit both countries say nothing about which one is meant: compare the others.
    for other in ranked[1:]:
        only_other = sum(1 for f in fits if other in f and best not in f)
        only_best = sum(1 for f in fits if best in f and other not in f)
        if only_other and only_other >= CLOSE * only_best:
            why = said("init.r_close", n=best_n, total=total, header=header, words=words, other_n=counts[other],
                       other=CountryWords(other))
            return CountryGuess(None, why, False, candidates)
    if national[best]:
        why = said("init.r_local", n=best_n, total=total, header=header, words=words, like=like)
    else:
        code = phonenumbers.country_code_for_region(best)
        why = said("init.r_code", header=header, code=code, n=best_n, total=total)
    return CountryGuess(best, why, True, candidates)
