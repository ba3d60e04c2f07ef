"""Interface text: every string exists in English and French, and the new pages speak French."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from babel import Locale
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from alerts.wording import WORDS
from dashboard.text import STRINGS, Text, date_text, number, plural
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.dashboard.helpers import ADMIN
from tests.dashboard.test_pages import mention, shown
from tests.factories import make_customer

SALES = "sarah.whitfield@lumio.example"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def forms(text: Text) -> list[str]:
    """A string's one form, or every form of a plural."""
    return [text] if isinstance(text, str) else list(text.values())


CATALOGS = {"interface": STRINGS, "alerts": {language: c.strings for language, c in WORDS.items()}}


@pytest.mark.parametrize("catalog", CATALOGS)
def test_every_string_has_both_languages_with_the_same_placeholders(catalog: str):
    english, french = CATALOGS[catalog]["en"], CATALOGS[catalog]["fr"]
    assert set(english) == set(french)
    differ = {
        key
        for key in english
        if len({frozenset(placeholders(form)) for form in forms(english[key]) + forms(french[key])}) != 1
    }
    assert differ == set()


@pytest.mark.parametrize("catalog", CATALOGS)
def test_a_plural_is_one_in_every_language_with_the_forms_that_language_has(catalog: str):
    catalogs = CATALOGS[catalog]
    for language, strings in catalogs.items():
        tags = Locale.parse(language).plural_form.tags | {"other"}
        for key, text in strings.items():
            assert isinstance(text, str) == all(isinstance(s[key], str) for s in catalogs.values()), key
            if not isinstance(text, str):
                assert "other" in text and set(text) <= tags, (language, key, set(text))
                assert all("n" in placeholders(form) for form in text.values()), (language, key)


def formatted(language: str) -> AppTest:
    """The helpers' output in a running page, in `language`: one line of text each."""

    def page(language: str) -> None:
        from datetime import UTC, date, datetime, timedelta, timezone

        import streamlit as st

        from dashboard.text import date_text, number, percent, plural

        st.session_state["language"] = language
        paris = timezone(timedelta(hours=1))
        for line in (
            number(1234),
            number(1234567.891, 2),
            number(-1234, signed=True),
            number(12, signed=True),
            plural("customers_found", 1),
            plural("customers_found", 3),
            plural("customers_found", 0),
            plural("customers_found", 1234),
            plural("review_confidence", 2, confidence=percent(0.8)),
            percent(0.257),
            date_text(datetime(2026, 3, 14, 9, 5, tzinfo=UTC)),
            date_text(datetime(2026, 3, 14, 23, 30, tzinfo=paris)),
            date_text(date(2026, 1, 2)),
            date_text(datetime(2026, 3, 14, 9, 5, tzinfo=UTC), with_time=False),
        ):
            st.text(line)

    return AppTest.from_function(page, args=(language,)).run(timeout=30)


def test_english_groups_thousands_with_commas_and_says_one_customer_or_customers():
    at = formatted("en")
    assert not at.exception
    assert [line.value for line in at.text] == [
        "1,234",
        "1,234,567.89",
        "-1,234",
        "+12",
        "1 customer found",
        "3 customers found",
        "0 customers found",
        "1,234 customers found",
        "confidence 80% · 2 mentions",
        "26%",
        "2026-03-14 09:05",
        "2026-03-14 23:30",
        "2026-01-02",
        "2026-03-14",
    ]


def test_french_groups_thousands_with_a_narrow_space_and_agrees_in_number():
    at = formatted("fr")
    assert not at.exception
    assert [line.value for line in at.text] == [
        "1\u202f234",
        "1\u202f234\u202f567,89",
        "-1\u202f234",
        "+12",
        "1 client trouvé",
        "3 clients trouvés",
        "0 client trouvé",
        "1\u202f234 clients trouvés",
        "confiance 80\xa0% · 2 mentions",
        "26\xa0%",
        "2026-03-14 09:05",
        "2026-03-14 23:30",
        "2026-01-02",
        "2026-03-14",
    ]


def test_outside_a_page_the_helpers_speak_english():
    assert number(1234) == "1,234"
    assert plural("followers", 1) == "1 follower"
    assert date_text(datetime(2026, 3, 14, 9, 5, tzinfo=timezone(timedelta(hours=-5)))) == "2026-03-14 09:05"
    assert date_text(date(2026, 3, 14)) == "2026-03-14"
    assert date_text(datetime(2026, 3, 14, tzinfo=UTC)) == "2026-03-14 00:00"


@pytest.mark.parametrize(
    ("language", "search", "expected"),
    [
        ("en", "Garage Petit", "1 customer found"),
        ("en", "Martin", "2 customers found"),
        ("fr", "Garage Petit", "1 client trouvé"),
        ("fr", "Martin", "2 clients trouvés"),
    ],
)
def test_the_customer_search_counts_what_it_found_in_the_persons_language(
    es: Elasticsearch, names: IndexNames, dashboard, language: str, search: str, expected: str
):
    upsert_customers(
        es,
        names,
        [
            make_customer("C1"),
            make_customer("C2", full_name="Paul Martin", email="paul@martin.example"),
            make_customer("C3", full_name="Marc Petit", company="Garage Petit", email="marc@garage.example"),
        ],
    )
    at = dashboard("pages/customers.py")
    at.session_state["language"] = language  # as if picked in the sidebar, for the next run
    at.text_input(key="customer_search").input(search).run(timeout=30)
    assert not at.exception
    assert expected in [c.value for c in at.caption]


@pytest.mark.parametrize(
    ("page", "user", "title", "expected"),
    [
        ("pages/admin.py", ADMIN, "admin_title", ["crm_rows_read", "admin_quality", "failures_in_a_row"]),
        ("pages/insights.py", ADMIN, "insights_title", ["period_a", "compare_periods"]),
        ("pages/customers.py", SALES, "customers_title", ["export_customers", "my_accounts"]),
        ("pages/inbox.py", ADMIN, "inbox_title", ["order_attention", "triage"]),
        ("pages/team.py", ADMIN, "team_title", ["team_response_rate", "team_backlog", "team_export"]),
    ],
)
def test_the_pages_speak_french(
    es: Elasticsearch, names: IndexNames, dashboard, page: str, user: str, title: str, expected: list[str]
):
    upsert_customers(es, names, [make_customer("C1", owner_email=SALES)])
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1, customer_id="C1")])
    at = dashboard(page, as_user=user)
    at.session_state["language"] = "fr"
    at.run(timeout=30)
    assert not at.exception
    assert [t.value for t in at.title] == [STRINGS["fr"][title]]
    french = STRINGS["fr"]
    seen = " ".join(
        [
            shown(at),
            *(str(c) for d in at.dataframe for c in d.value.columns),
            *(w.label for w in [*at.radio, *at.toggle, *at.button, *at.selectbox, *at.checkbox] if w.label),
            *(b.proto.label for b in at.get("download_button")),
            *(option for r in at.radio for option in r.options),
        ]
    )
    missing = [key for key in expected if french[key].split("{")[0].strip() not in seen]
    assert missing == []


def link_reasons(language: str) -> AppTest:
    """Why a post was linked to Julie Martin, as a page says it in `language`: a handle, then a name."""

    def page(language: str) -> None:
        from datetime import UTC, datetime

        import streamlit as st

        from core.documents import Author, RawPost
        from dashboard.render import link_reason
        from nlp.language import normalise
        from nlp.linking import CustomerDirectory, resolve_customer
        from tests.factories import make_customer

        st.session_state["language"] = language
        julie = make_customer("C1", first_name="Julie", last_name="Martin", handles=["julie@piaille.example"])
        for handle, name, text in (
            ("julie@piaille.example", "Julie", "Ma box redémarre."),
            ("jm74@mastodon.example", "Julie Martin", "La Boulangerie Martin est sans internet."),
        ):
            post = RawPost(
                source="test",
                platform="mastodon",
                native_id=handle,
                author=Author(handle=handle, display_name=name),
                text=text,
                created_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
            link, _ = resolve_customer(post, normalise(text), [], CustomerDirectory([julie]))
            assert link is not None
            st.text(link_reason(link))

    return AppTest.from_function(page, args=(language,)).run(timeout=30)


def test_why_a_post_was_linked_reads_in_the_persons_language():
    english, french = link_reasons("en"), link_reasons("fr")
    assert not english.exception and not french.exception
    assert [line.value for line in english.text] == [
        "linked by handle (1.00): handle @julie@piaille.example is on record for Julie Martin, "
        "Boulangerie Martin",
        "linked by name (0.97): author name “julie martin” matches Julie Martin (100%); "
        "the post names the company “Boulangerie Martin”",
    ]
    assert [line.value for line in french.text] == [
        "lié par pseudo (1,00) : le pseudo @julie@piaille.example figure sur la fiche de Julie Martin, "
        "Boulangerie Martin",
        "lié par nom (0,97) : le nom de l'auteur « julie martin » correspond à Julie Martin (100\xa0%) ; "
        "le post nomme l'entreprise « Boulangerie Martin »",
    ]
