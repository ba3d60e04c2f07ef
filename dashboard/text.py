"""Every string the dashboard shows, read once from locales/<language>.toml; numbers and plurals by Babel.

The signed-in person picks the language. `t` gives a string, `plural` the form of a string that fits a
count, `number` and `date_text` the figures and dates placed in them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import (
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.catalog import Catalog, Text

LANGUAGE = "en"
LANGUAGES = {"en": "English", "fr": "Français"}
LOCALES = Path(__file__).with_name("locales")
DATE_PATTERN = "yyyy-MM-dd"  # the same in every language: read the world over, sorted as text
DATE_TIME_PATTERN = "yyyy-MM-dd HH:mm"

CATALOGS = {language: Catalog(LOCALES, language) for language in LANGUAGES}
STRINGS: dict[str, dict[str, Text]] = {language: c.strings for language, c in CATALOGS.items()}


def current_language() -> str:
    """The language the person chose in this session; English outside a running page."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return LANGUAGE
    import streamlit as st

    chosen = st.session_state.get("language", LANGUAGE)
    return chosen if chosen in STRINGS else LANGUAGE


def catalog() -> Catalog:
    """The interface strings in the current language."""
    return CATALOGS[current_language()]


def t(key: str, **values: object) -> str:
    """The interface string `key` in the current language, formatted with `values`."""
    return catalog().t(key, **values)


def text_or(key: str, fallback: str, **values: object) -> str:
    """The interface string `key` when there is one, else `fallback` (a value with no words of its own yet:
    a label a newer model gives, a field a newer version stores)."""
    return t(key, **values) if catalog().has(key) else fallback


def plural(key: str, n: float, **values: object) -> str:
    """The form of `key` that fits the count `n` in the current language, `n` shown as by `number`."""
    return catalog().plural(key, n, **values)


def labels(options: Iterable[Hashable], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A widget's `format_func`: each option's label worked out now, in this run's language.

    Streamlit may call `format_func` again outside the page's run (its test harness does), where the
    person's language is no longer known; a label looked up there would be English.
    """
    shown = {option: label(option) for option in options}
    return lambda option: shown[option] if option in shown else label(option)


def number(value: float, decimals: int = 0, signed: bool = False) -> str:
    """`value` rounded to `decimals`, digits grouped as the language writes them: 1,234 or 1 234.

    `signed` puts a + before a positive value (and zero), as a change is shown.
    """
    return catalog().number(value, decimals, signed)


def percent(share: float) -> str:
    """A share (0.25) as the language writes a percentage: 25% in English, 25 % in French."""
    return catalog().percent(share)


def chart_number_locale() -> dict[str, object]:
    """How charts (Vega's d3-format) write numbers in the current language: 0,5 and 20 % in French."""
    language = current_language()
    return {
        "decimal": get_decimal_symbol(language),
        "thousands": get_group_symbol(language),
        "grouping": [3],
        "currency": ["", ""],
        "minus": get_minus_sign_symbol(language),
        "percent": format_percent(0, locale=language).removeprefix("0"),
    }


def duration(value: timedelta) -> str:
    """The shortest exact duration in the language's units: 2h, 30m, 1d in English; 2 h, 30 min, 1 j in
    French."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return t(f"duration_{unit}", n=number(seconds // size))
    return t("duration_s", n=number(seconds))


def date_text(moment: date | datetime, with_time: bool = True) -> str:
    """A date, or a time to the minute in its own zone, written the same in every language."""
    if isinstance(moment, datetime) and with_time:
        return format_datetime(moment, DATE_TIME_PATTERN, locale=current_language())
    return format_date(moment, DATE_PATTERN, locale=current_language())
