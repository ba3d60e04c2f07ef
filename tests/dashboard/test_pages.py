"""The dashboard pages, run with Streamlit's AppTest against the real Elasticsearch stand-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import Alert, CustomerLink, Label, Mention, document_id
from core.text import WORD_JOINER
from dashboard.render import literal
from dashboard.text import t
from index.alerts import create_alerts
from index.client import IndexNames, free_port
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.conftest import write_config
from tests.dashboard.helpers import APP, sign_in
from tests.factories import make_customer, make_mention

NOW = datetime.now(UTC).replace(microsecond=0)
XSS_TEXT = "<script>alert(1)</script> **bold** [link](javascript:alert(1))"


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def mention(native_id: str, text: str, hours: float, sentiment: str = "neutral", **overrides) -> Mention:
    return make_mention(
        native_id,
        text=text,
        created_at=hours_ago(hours),
        collected_at=hours_ago(hours),
        enriched_at=hours_ago(hours),
        sentiment=Label(label=sentiment, confidence=0.82),
        **overrides,
    )


def texts(at: AppTest) -> list[str]:
    """Post bodies and other literal text, in page order."""
    return [el.value for el in at.text]


def unescaped(markdown: str) -> str:
    """What a reader sees of markdown whose special characters were backslash-escaped and whose
    autolinks were broken by invisible word joiners."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def shown(at: AppTest) -> str:
    """Everything a reader sees as words: markdown with its escapes undone, text, captions, metrics."""
    parts = [unescaped(el.value) for el in [*at.markdown, *at.caption, *at.subheader]]
    parts += texts(at)
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


def metric(at: AppTest, label: str) -> str:
    (found,) = [m.value for m in at.metric if m.label == label]
    return found


def test_inbox_lists_the_newest_mention_first(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention("old", "Lumio, une semaine sans internet.", hours=100),
            mention("new", "Lumio répare enfin ma box.", hours=1),
            mention("mid", "Lumio ou Zéphyr ?", hours=30),
        ],
    )
    at = dashboard()
    assert texts(at) == [
        "Lumio répare enfin ma box.",
        "Lumio ou Zéphyr ?",
        "Lumio, une semaine sans internet.",
    ]
    assert metric(at, t("inbox_total")) == "3"


def test_each_mention_says_which_model_labelled_it(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention("fresh", "Lumio, encore une coupure.", hours=1, model="fast"),
            mention("rescored", "Lumio, merci pour la réparation.", hours=2, model="accurate"),
        ],
    )
    page = shown(dashboard())
    assert page.count(t("scored_by", model=t("model_fast"))) == 1
    assert page.count(t("scored_by", model=t("model_accurate"))) == 1


def test_sentiment_filter_narrows_the_list_and_the_count(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention("a", "Panne Lumio depuis lundi.", hours=1, sentiment="negative"),
            mention("b", "Merci Lumio pour la fibre !", hours=2, sentiment="positive"),
            mention("c", "Encore une coupure Lumio.", hours=3, sentiment="negative"),
        ],
    )
    at = dashboard()
    assert metric(at, t("inbox_total")) == "3"
    at.sidebar.multiselect(key="inbox_sentiment").set_value(["negative"]).run(timeout=30)
    assert texts(at) == ["Panne Lumio depuis lundi.", "Encore une coupure Lumio."]
    assert metric(at, t("inbox_total")) == "2"
    assert "negative 0.82" in shown(at)


def test_a_period_filter_leaves_out_older_mentions(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es, names, [mention("now", "Lumio ce matin.", hours=2), mention("old", "Lumio, jadis.", hours=200)]
    )
    at = dashboard()
    at.sidebar.selectbox(key="inbox_period").set_value("24h").run(timeout=30)
    assert texts(at) == ["Lumio ce matin."]


def test_the_inbox_opens_on_the_last_7_days_and_older_ones_are_a_choice_away(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        [
            mention("now", "Lumio ce matin.", hours=2),
            mention("week", "Lumio il y a dix jours.", hours=24 * 10),
        ],
    )
    at = dashboard()
    assert at.sidebar.selectbox(key="inbox_period").value == "7d"
    assert texts(at) == ["Lumio ce matin."]
    at.sidebar.selectbox(key="inbox_period").set_value("30d").run(timeout=30)
    assert texts(at) == ["Lumio ce matin.", "Lumio il y a dix jours."]


def test_searching_shows_the_matching_words_highlighted(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention("a", "My Lumio router is broken again", hours=1, language="en"),
            mention("b", "Lumio support was quick today", hours=2, language="en"),
        ],
    )
    at = dashboard()
    at.sidebar.text_input(key="inbox_query").input("broken").run(timeout=30)
    assert metric(at, t("inbox_total")) == "1"
    assert any("«broken»" in text for text in texts(at))
    assert "Lumio support was quick today" not in texts(at)


def test_post_text_is_shown_literally_never_as_markup(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention(
                "xss",
                XSS_TEXT,
                hours=1,
                title="<b>Title</b> _x_ [y](javascript:alert(2))",
                url="javascript:alert(3)",
                author={"handle": "[evil](javascript:alert(4))", "display_name": "**Boss**", "followers": 3},
            )
        ],
    )
    at = dashboard()
    assert XSS_TEXT in texts(at)
    for el in [*at.markdown, *at.caption]:
        assert "<script>" not in el.value and "<b>" not in el.value
        assert "](javascript:" not in el.value and "**Boss**" not in el.value
    page = shown(at)
    assert "<b>Title</b> _x_ [y](javascript:alert(2))" in page
    assert "[evil](javascript:alert(4))" in page and "**Boss**" in page
    assert not at.get("link_button")  # a javascript: URL is never offered as a link


def test_inbox_card_names_the_linked_customer_and_why(es: Elasticsearch, names: IndexNames, dashboard):
    upsert_customers(es, names, [make_customer("C1", full_name="Julie Martin", company="Boulangerie Martin")])
    link = CustomerLink(
        customer_id="C1", method="handle", confidence=1.0, reason="handle c1@mastodon.example"
    )
    index_mentions(es, names, [mention("a", "Ma box Lumio clignote.", hours=1, customer_id="C1", link=link)])
    at = dashboard()
    (page_link,) = at.get("page_link")
    assert "Julie Martin, Boulangerie Martin" in unescaped(page_link.proto.label)
    assert page_link.proto.query_string == "customer=C1"
    assert "handle c1@mastodon.example" in shown(at)
    assert [b.proto.url for b in at.get("link_button")] == ["https://mastodon.example/@someone/a"]


def test_insights_counts_each_sentiment(es: Elasticsearch, names: IndexNames, dashboard):
    seeded = {"positive": 3, "neutral": 1, "negative": 2}
    index_mentions(
        es,
        names,
        [
            mention(f"{label}{i}", f"Lumio {label} {i}", hours=2 + 20 * i, sentiment=label)
            for label, count in seeded.items()
            for i in range(count)
        ]
        + [mention("ancient", "Lumio il y a longtemps", hours=24 * 60, sentiment="negative")],
    )
    at = dashboard("pages/insights.py")
    assert {label: metric(at, t(label)) for label in seeded} == {
        "positive": "3",
        "neutral": "1",
        "negative": "2",
    }
    assert metric(at, t("mentions")) == "6"
    assert metric(at, t("negative_share")) == "33%"
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    at.selectbox(key="insights_period").set_value("all").run(timeout=30)
    assert metric(at, t("negative")) == "3"


def test_customer_page_shows_the_crm_record_and_only_their_mentions(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(
        es,
        names,
        [
            make_customer(
                "C1", full_name="Julie Martin", company="Boulangerie Martin", phone="+33 1 23 45 67 89"
            ),
            make_customer("C2", full_name="Marc Petit", company="Garage Petit", email="marc@garage.example"),
        ],
    )
    index_mentions(
        es,
        names,
        [
            mention("j1", "Julie: ma box est en panne.", hours=1, sentiment="negative", customer_id="C1"),
            mention(
                "j2", "Julie: merci pour la réparation.", hours=5, sentiment="positive", customer_id="C1"
            ),
            mention("m1", "Marc: la fibre rame.", hours=2, sentiment="negative", customer_id="C2"),
            mention("x1", "Quelqu'un d'autre parle de Lumio.", hours=3),
        ],
    )
    alert = Alert(
        id=document_id("alert", "j1"),
        rule="unhappy-customer",
        mention_id=document_id("test", "j1"),
        customer_id="C1",
        recipients=["claire.dubois@lumio.example"],
        created_at=hours_ago(1),
        summary="Julie Martin is unhappy: ma box est en panne.",
        sentiment="negative",
        intent="complaint",
    )
    create_alerts(es, names, [alert])
    at = dashboard("pages/customers.py", customer="C1")
    page = shown(at)
    for value in (
        "Julie Martin",
        "Boulangerie Martin",
        "c1@client.example",
        "+33 1 23 45 67 89",
        "smb",
        "4,800.00",
    ):
        assert value in page
    assert "Claire Dubois <claire.dubois@lumio.example>" in page
    assert texts(at)[-2:] == ["Julie: ma box est en panne.", "Julie: merci pour la réparation."]
    assert "Marc: la fibre rame." not in texts(at) and "Quelqu'un d'autre parle de Lumio." not in texts(at)
    assert "Julie Martin is unhappy: ma box est en panne." in texts(at)
    assert (metric(at, t("negative")), metric(at, t("positive")), metric(at, t("neutral"))) == ("1", "1", "0")


def test_a_customer_opens_on_their_last_90_days_and_all_time_is_a_choice_away(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(es, names, [make_customer("C1", full_name="Julie Martin")])
    index_mentions(
        es,
        names,
        [
            mention("recent", "Julie: la box marche.", hours=24 * 20, sentiment="positive", customer_id="C1"),
            mention("old", "Julie: panne en été.", hours=24 * 120, sentiment="negative", customer_id="C1"),
        ],
    )
    at = dashboard("pages/customers.py", customer="C1")
    assert at.sidebar.selectbox(key="customer_period").value == "90d"
    assert "Julie: panne en été." not in texts(at) and "Julie: la box marche." in texts(at)
    assert (metric(at, t("negative")), metric(at, t("positive"))) == ("0", "1")
    at.sidebar.selectbox(key="customer_period").set_value("all").run(timeout=30)
    assert "Julie: panne en été." in texts(at)
    assert (metric(at, t("negative")), metric(at, t("positive"))) == ("1", "1")


def test_customer_search_finds_by_company_and_opens_the_choice(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(
        es,
        names,
        [
            make_customer("C1", full_name="Julie Martin", company="Boulangerie Martin"),
            make_customer("C2", full_name="Marc Petit", company="Garage Petit", email="marc@garage.example"),
        ],
    )
    index_mentions(es, names, [mention("m1", "Marc: la fibre rame.", hours=2, customer_id="C2")])
    at = dashboard("pages/customers.py")
    at.text_input(key="customer_search").input("Garage").run(timeout=30)
    picker = at.selectbox(key="customer_pick")
    assert picker.options[0].startswith("Marc Petit")
    picker.set_value("C2").run(timeout=30)
    assert at.query_params["customer"] == "C2"
    assert "marc@garage.example" in shown(at)
    assert texts(at) == ["Marc: la fibre rame."]


def test_an_unknown_customer_id_says_so(es: Elasticsearch, names: IndexNames, dashboard):
    at = dashboard("pages/customers.py", customer="nobody")
    assert [w.value for w in at.warning] == [literal(t("customer_missing", id="nobody"))]


@pytest.mark.parametrize("page", ["pages/inbox.py", "pages/insights.py", "pages/customers.py"])
def test_an_unreachable_index_shows_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str
):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ECOUTE_CONFIG", str(write_config(tmp_path, url, "ecoute")))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=30).run(timeout=30))
    if page != "pages/inbox.py":
        at.switch_page(page).run(timeout=30)
    assert not at.exception
    (warning,) = at.warning
    assert unescaped(warning.value).startswith(f"The index at {url} is unreachable (")
    assert "Connection refused" in unescaped(warning.value)


def test_a_broken_config_is_one_error_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("brand: {name: Lumio}\nelasticsearch: {index_prefix: 'Not Valid'}\n", encoding="utf-8")
    monkeypatch.setenv("ECOUTE_CONFIG", str(config))
    at = AppTest.from_file(str(APP), default_timeout=30).run(timeout=30)
    assert not at.exception
    (error,) = at.error
    assert "elasticsearch.index_prefix: String should match pattern" in unescaped(error.value)


def test_an_empty_index_is_not_an_error(dashboard):
    at = dashboard()
    assert not at.error
    assert metric(at, t("inbox_total")) == "0"
