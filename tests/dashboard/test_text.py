"""Interface text: every string exists in English and French, and the new pages speak French."""

from __future__ import annotations

import string

import pytest
from elasticsearch import Elasticsearch

from dashboard.text import STRINGS
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.dashboard.helpers import ADMIN
from tests.dashboard.test_pages import mention, shown
from tests.factories import make_customer

SALES = "sarah.whitfield@lumio.example"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_has_both_languages_with_the_same_placeholders():
    english, french = STRINGS["en"], STRINGS["fr"]
    assert set(english) == set(french)
    assert {k for k in english if placeholders(english[k]) != placeholders(french[k])} == set()


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
