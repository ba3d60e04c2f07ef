"""Strings of one language read from `<folder>/<language>.toml`; numbers and plurals formatted by Babel.

The dashboard's interface strings and the alert messages each have their folder of such files; a
`Catalog` is one language of one folder, so a message can be written in its reader's language anywhere.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal, format_percent

Text = str | dict[str, str]
"""A string, or a plural: its forms by CLDR plural category (one, many, other...)."""


class Catalog:
    """The strings of `language` in `folder`, with the language's number and plural rules."""

    def __init__(self, folder: Path, language: str) -> None:
        self.language = language
        with (folder / f"{language}.toml").open("rb") as file:
            self.strings: dict[str, Text] = tomllib.load(file)

    def has(self, key: str) -> bool:
        return key in self.strings

    def t(self, key: str, **values: object) -> str:
        """The string `key`, formatted with `values`."""
        text = self.strings[key]
        if not isinstance(text, str):
            raise TypeError(f"{key} is a plural: plural({key!r}, n) picks its form")
        return text.format(**values) if values else text

    def plural(self, key: str, n: float, **values: object) -> str:
        """The form of `key` that fits the count `n`, `n` shown as by `number`."""
        forms = self.strings[key]
        if isinstance(forms, str):
            raise TypeError(f"{key} is not a plural: t({key!r}) gives it")
        category = Locale.parse(self.language).plural_form(n)
        return forms.get(category, forms["other"]).format(n=self.number(n), **values)

    def number(self, value: float, decimals: int = 0, signed: bool = False) -> str:
        """`value` rounded to `decimals`, digits grouped as the language writes them: 1,234 or 1 234.

        `signed` puts a + before a positive value (and zero), as a change is shown.
        """
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        if signed:
            pattern = f"+{pattern};-{pattern}"
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, share: float) -> str:
        """A share (0.25) as the language writes a percentage: 25% in English, 25 % in French."""
        return format_percent(share, locale=self.language)
