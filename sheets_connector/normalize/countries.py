"""Countries as the mapping and messages name them: region codes, calling codes, country names.

:func:`region_for` reads what a mapping says (``IL``, ``972``, ``+972``, ``UK``); :func:`country_name`
names a country for a message from phonenumbers' own locale table, loaded without the 100 MB
geocoding data (see :func:`_country_names`).
"""
from __future__ import annotations

from functools import lru_cache

import phonenumbers

from ..messages.catalog import said
from .values import clean_text

_REGION_ALIASES = {"UK": "GB"}


@lru_cache(maxsize=256)
def region_for(country: str | int) -> str:
    """A country given as a region code or a calling code -> phonenumbers region code.

    ``"IL"``, ``"il"``, ``"972"``, ``"+972"``, ``"00972"`` and ``972`` all give ``"IL"``;
    ``"1"`` gives ``"US"`` (the main region of that code); ``"UK"`` is taken as ``"GB"``.

    Raises:
        ValueError: the value is neither a known two-letter region nor a country calling code.
    """
    raw = clean_text(country)
    text = raw.upper()
    text = _REGION_ALIASES.get(text, text)
    if text in phonenumbers.SUPPORTED_REGIONS:
        return text
    digits = text[1:] if text.startswith("+") else text[2:] if text.startswith("00") else text
    if digits.isdigit() and digits.isascii():
        region = phonenumbers.region_code_for_country_code(int(digits))
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    raise ValueError(said("cfg.country", value=f'"{raw}"'))  # a message: said in the mapping's language


def calling_code_for(region: str) -> str:
    """Region code -> country calling code as digits: ``"IL"`` -> ``"972"``, ``"US"`` -> ``"1"``.

    Accepts whatever :func:`region_for` accepts.  Raises ``ValueError`` for an unknown country.
    """
    return str(phonenumbers.country_code_for_region(region_for(region)))


@lru_cache(maxsize=256)
def _calling_code(region: str) -> str:
    return str(phonenumbers.country_code_for_region(region))


def country_name(region: str, language: str = "en") -> str:
    """A region code as people name the country: ``"IL"`` -> ``"Israel"`` (``"ישראל"`` in
    Hebrew), from phonenumbers' own geocoding names; the code itself when none is known."""
    name = _region_display_name(region, language) if region else ""
    if not name and language != "en":
        name = _region_display_name(region, "en")
    return name or region or "that country"


def _region_display_name(region: str, language: str) -> str:
    """phonenumbers.geocoder's own lookup of a country's name in a language ("*he": the name
    is the one given for that other language)."""
    names = _country_names().get(region)
    if names is None:
        return ""
    name = names.get(language, "")
    if name.startswith("*"):
        name = names.get(name[1:], "")
    return name


@lru_cache(maxsize=1)
def _country_names() -> dict[str, dict[str, str]]:
    """phonenumbers' table of country names by language (its geodata/locale.py), loaded on its
    own: importing it the usual way (phonenumbers.geocoder) first loads phonenumbers.geodata,
    place names by number prefix that no message uses - 100 MB and 0.4 s in every process that
    names a country (this is 3 MB and 10 ms)."""
    import importlib.util
    from pathlib import Path

    path = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    assert spec is not None and spec.loader is not None  # the file ships with phonenumbers
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.LOCALE_DATA)
