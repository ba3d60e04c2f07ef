"""A sales person reads only the customers they own, and the alerts and mentions linked to them: on every
page, in every export, and whatever id they type into the address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import Alert, document_id
from dashboard.render import literal
from dashboard.text import t
from index.alerts import create_alerts
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.dashboard.helpers import APP, downloads, sign_in
from tests.dashboard.test_pages import shown
from tests.factories import make_customer, make_mention

SALES = "sarah.whitfield@lumio.example"
ROLES = {
    "sales": SALES,
    "community_manager": "community@lumio.example",
    "marketer": "marketing@lumio.example",
    "admin": "admin@lumio.example",
}
OTHER_ID = "C-1001"  # owned by Claire Dubois, not by the sales person signed in
OTHER_RECORD = ["Bernard Lefèvre", "bernard.lefevre@client.example", "+33 6 11 22 33 44"]
OTHER_POST = "Lumio m'a coupé la ligne, je résilie."
OTHER_ALERT = "Alert about C-1001: résiliation"
OTHER_SECRETS = [*OTHER_RECORD, OTHER_POST, OTHER_ALERT]
MY_POST = "Merci Lumio pour la réparation."


def alert(native_id: str, summary: str, recipients: list[str], customer_id: str | None, mentions: list[str]):
    return Alert(
        id=document_id("alert", native_id),
        rule="negative-by-customer" if customer_id else "topic-spike",
        mention_id=mentions[0],
        mention_ids=mentions,
        customer_id=customer_id,
        recipients=recipients,
        created_at=datetime.now(UTC) - timedelta(hours=1),
        summary=summary,
        sentiment="negative",
        intent="complaint",
    )


def two_owners(es: Elasticsearch, names: IndexNames) -> None:
    """One customer of the sales person's, one of a colleague's; a mention and an alert about each; an
    alert about no customer, sent to the sales person, that groups both mentions; and an alert about the
    colleague's customer still addressed to the sales person (the account changed hands since)."""
    upsert_customers(
        es,
        names,
        [
            make_customer(
                OTHER_ID,
                first_name="Bernard",
                last_name="Lefèvre",
                full_name="Bernard Lefèvre",
                company="Lefèvre SARL",
                email="bernard.lefevre@client.example",
                phone="+33 6 11 22 33 44",
            ),
            make_customer(
                "C-2002", full_name="Julie Martin", owner_name="Sarah Whitfield", owner_email=SALES
            ),
        ],
    )
    now = datetime.now(UTC)
    index_mentions(
        es,
        names,
        [
            make_mention(
                "other",
                text=OTHER_POST,
                customer_id=OTHER_ID,
                created_at=now - timedelta(hours=2),
                author={
                    "handle": "blefevre@mastodon.example",
                    "display_name": "Bernard Lefèvre",
                    "followers": 900,
                },
            ),
            make_mention("mine", text=MY_POST, customer_id="C-2002", created_at=now - timedelta(hours=3)),
        ],
    )
    other, mine = document_id("test", "other"), document_id("test", "mine")
    create_alerts(
        es,
        names,
        [
            alert("other", OTHER_ALERT, [SALES, "claire.dubois@lumio.example"], OTHER_ID, [other]),
            alert("mine", "Alert about C-2002", ["community@lumio.example"], "C-2002", [mine]),
            alert("spike", "Lumio spike", [SALES], None, [other, mine]),
        ],
    )


def seen(at: AppTest) -> str:
    """Everything the page shows or hands out: words, tables, pickers and the files its buttons serve."""
    parts = [shown(at)]
    parts += [e.value for e in [*at.error, *at.warning, *at.info, *at.success]]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [str(option) for box in at.selectbox for option in box.options]
    parts += [content.decode("utf-8-sig", errors="replace") for content in downloads(at).values()]
    return "\n".join(parts)


def leaked(at: AppTest) -> list[str]:
    page = seen(at)
    return [secret for secret in OTHER_SECRETS if secret in page]


def test_a_sales_person_typing_another_owners_customer_id_is_told_it_is_not_theirs(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    two_owners(es, names)
    at = dashboard("pages/customers.py", as_user=SALES, customer=OTHER_ID)
    assert [w.value for w in at.warning] == [literal(t("customer_not_yours", id=OTHER_ID))]
    assert leaked(at) == []
    own = dashboard("pages/customers.py", as_user=SALES, customer="C-2002")
    assert "Julie Martin" in shown(own) and MY_POST in shown(own)  # their own account opens as before


def test_unticking_my_accounts_still_shows_a_sales_person_only_their_own(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    two_owners(es, names)
    at = dashboard("pages/customers.py", as_user=SALES)
    assert at.checkbox(key="customer_mine").disabled
    at.session_state["customer_mine"] = False  # what a hand-made request could send anyway
    at.run(timeout=30)
    at.text_input(key="customer_search").input("Bernard").run(timeout=30)
    assert not at.exception
    assert leaked(at) == []
    at.text_input(key="customer_search").input("").run(timeout=30)
    assert "Julie Martin" in seen(at) and leaked(at) == []


def test_a_sales_person_sees_no_alert_about_another_owners_customer_even_one_sent_to_them(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    two_owners(es, names)
    at = dashboard("pages/alerts.py", as_user=SALES)
    assert sorted(el.value for el in at.text) == ["Alert about C-2002", "Lumio spike"]
    assert leaked(at) == []  # the CSV export included
    typed = dashboard("pages/alerts.py", as_user=SALES, alert=document_id("alert", "other"))
    assert [i.value for i in typed.info] == [t("alert_not_found")] and leaked(typed) == []
    spike = dashboard("pages/alerts.py", as_user=SALES, alert=document_id("alert", "spike"))
    assert MY_POST in shown(spike) and leaked(spike) == []  # only the grouped mention that is theirs


def test_each_role_sees_another_owners_customer_only_where_it_may(
    es: Elasticsearch, names: IndexNames, settings_file, monkeypatch, recorded_media
):
    """Every role on every page, opened by its address with the other owner's ids in it."""
    two_owners(es, names)
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    pages = {
        "inbox": {},
        "insights": {},
        "customers": {"customer": OTHER_ID},
        "alerts": {"alert": document_id("alert", "other")},
        "review": {},
        "admin": {},
    }
    outcome: dict[tuple[str, str], str] = {}
    for role, email in ROLES.items():
        at = sign_in(AppTest.from_file(str(APP), default_timeout=30).run(timeout=30), email)
        for page, params in pages.items():
            at.query_params.clear()
            at.query_params.update(params)
            try:
                at.switch_page(f"pages/{page}.py").run(timeout=30)
            except ValueError:  # not in this person's navigation at all
                outcome[role, page] = "refused"
                continue
            assert not at.exception, (role, page, [e.value for e in at.exception])
            if t("not_allowed", role=t(f"role_{role}")) in [e.value for e in at.error]:
                outcome[role, page] = "refused" if not leaked(at) else "refused but leaked"
            else:
                outcome[role, page] = "shows it" if leaked(at) else "hides it"
    everyone = ("community_manager", "marketer", "admin")
    expected = {
        **{("sales", page): "refused" for page in ("inbox", "insights", "review", "admin")},
        ("sales", "customers"): "hides it",
        ("sales", "alerts"): "hides it",
        **{
            (role, page): "shows it"
            for role in everyone
            for page in ("inbox", "insights", "customers", "alerts")
        },
        **{(role, "review"): "hides it" for role in everyone},  # no link proposal or quality problem to show
        **{(role, "admin"): "refused" for role in ("community_manager", "marketer")},
        ("admin", "admin"): "hides it",  # counts only
    }
    assert outcome == expected
