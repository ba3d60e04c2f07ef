"""Replying from an Inbox card, with AppTest against the real stand-in and a local Mastodon instance that
records what was posted: the reply reaches it, is in the thread, and on the customer's record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import Mention, Reply
from dashboard.text import plural, t
from index.client import EmbeddedServer, IndexNames
from index.customers import upsert_customers
from index.mentions import get_mention, index_mentions
from index.replies import create_reply, replies_to
from tests.collectors.conftest import ScriptedServer
from tests.conftest import write_config
from tests.crm.espocrm_server import API_KEY as ESPO_KEY
from tests.crm.espocrm_server import note_as_read, serve_espocrm
from tests.dashboard.test_pages import shown
from tests.dashboard.test_untrusted_text import clickable
from tests.factories import make_customer, make_mention
from tests.replies.conftest import TOKEN, MastodonInstance

CM = "community@lumio.example"
MARKETER = "marketing@lumio.example"
STATUS_ID = "113600000000000042"
TOKEN_ENV = "TEST_INBOX_MASTODON_TOKEN"


@pytest.fixture
def instance() -> Iterator[MastodonInstance]:
    server = ScriptedServer()
    server.start()
    yield MastodonInstance(server)
    server.stop()


@pytest.fixture
def settings_file(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    es_server: EmbeddedServer,
    names: IndexNames,
    instance: MastodonInstance,
) -> Path:
    """The shipped config with its Mastodon source on the local instance; `replies:` from the test's
    parameter, if any."""
    path = write_config(tmp_path, es_server.url, names.prefix)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in data["sources"]:
        if source["name"] == "lumio-mastodon":
            source.update(instance=instance.url, local=True, token_env=TOKEN_ENV)
    data["replies"] = getattr(request, "param", {})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def toot(es: Elasticsearch, names: IndexNames, **overrides) -> Mention:
    mention = make_mention(
        STATUS_ID,
        source="lumio-mastodon",
        author={"handle": "julie@mastodon.example", "display_name": "Julie"},
        text="Ma box Lumio clignote rouge depuis ce matin.",
        raw={"id": STATUS_ID, "visibility": "public"},  # the status as collected
        **overrides,
    )
    index_mentions(es, names, [mention])
    return mention


def open_reply(at: AppTest, mention_id: str) -> AppTest:
    """Open a card's Reply expander, as a click on it does."""
    at.session_state[f"reply_open_{mention_id}"] = True
    return at.run(timeout=30)


def send_button(at: AppTest, mention_id: str):
    return at.button(key=f"reply_send_{mention_id}")


def test_a_reply_from_an_inbox_card_reaches_the_instance_and_the_customer_record(
    es: Elasticsearch, names: IndexNames, dashboard, instance: MastodonInstance, token: None
):
    upsert_customers(es, names, [make_customer("C-1", source="crm-csv")])
    mention = toot(es, names, customer_id="C-1")
    at = open_reply(dashboard(as_user=CM), mention.id)
    box = at.text_area(key=f"reply_text_{mention.id}")
    assert box.value == "@julie@mastodon.example "  # so that Julie is notified
    box.input("@julie@mastodon.example Bonjour Julie, un technicien vous appelle ce soir.").run(timeout=30)
    counted = len("@julie Bonjour Julie, un technicien vous appelle ce soir.")  # as Mastodon counts
    assert f"{counted} / 500 characters" in shown(at)
    assert send_button(at, mention.id).label == t("reply_send")

    send_button(at, mention.id).click().run(timeout=30)

    assert not at.exception
    assert [s.value for s in at.success] == [t("reply_sent", platform="Mastodon")]
    (posted,) = instance.posted
    assert posted.in_reply_to == STATUS_ID
    assert posted.text == "@julie@mastodon.example Bonjour Julie, un technicien vous appelle ce soir."
    (reply,) = replies_to(es, names, [mention.id])[mention.id]
    page = shown(at)
    assert "posted · written by Camille Roux" in page
    assert f"Address: {reply.platform_url}" in page  # as text to copy
    assert not [m for m in at.caption if "](" in m.value]  # never a link made of the platform's answer
    assert at.text_area(key=f"reply_text_{mention.id}").value == "@julie@mastodon.example "  # a new reply
    assert get_mention(es, names, mention.id).status == "answered"

    customer_page = dashboard("pages/customers.py", as_user=CM, customer="C-1")
    (interactions,) = [d.value for d in customer_page.dataframe if t("interaction_kind") in d.value.columns]
    assert interactions[t("interaction_kind")].tolist() == ["mastodon reply"]
    assert interactions[t("interaction_subject")].tolist() == [reply.text]


def test_a_reply_to_a_customer_of_an_espocrm_source_with_push_replies_says_it_is_noted_there(
    es: Elasticsearch,
    names: IndexNames,
    dashboard,
    settings_file: Path,
    instance: MastodonInstance,
    token: None,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("ESPOCRM_API_KEY", ESPO_KEY)
    with serve_espocrm() as (url, replay):
        data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
        espo = {"name": "espo", "type": "espocrm", "url": url, "push_replies": True}
        data["crm"]["sources"] = [{**espo, "mapping": {"contacts": {"table": "Contact"}}}]
        settings_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        julie = "6542c3e4a0b5d9f01"  # her EspoCRM contact id, as the CRM refresh mirrors it
        upsert_customers(es, names, [make_customer(julie, source="espo")])
        mention = toot(es, names, customer_id=julie)
        at = open_reply(dashboard(as_user=CM), mention.id)
        at.text_area(key=f"reply_text_{mention.id}").input("@julie@mastodon.example Bonjour Julie.").run()

        send_button(at, mention.id).click().run(timeout=30)

        assert not at.exception
        noted = t("reply_crm_noted", crm="espo")
        assert [s.value for s in at.success] == [f"{t('reply_sent', platform='Mastodon')} {noted}"]
        (note,) = replay.made()
        assert note["parentId"] == julie and "Bonjour Julie." in note_as_read(note["post"])
        assert "Also noted in the CRM (espo)." in shown(at)


def test_without_credentials_send_is_disabled_and_says_which_variable(
    es: Elasticsearch,
    names: IndexNames,
    dashboard,
    instance: MastodonInstance,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    mention = toot(es, names)
    at = open_reply(dashboard(as_user=CM), mention.id)
    reason = t("reply_needs_credentials", source="lumio-mastodon", names=TOKEN_ENV)
    assert send_button(at, mention.id).disabled
    assert reason in shown(at)
    assert not at.exception and instance.posted == []


def test_a_reply_too_long_for_the_platform_cannot_be_sent(
    es: Elasticsearch, names: IndexNames, dashboard, token: None
):
    mention = toot(es, names)
    at = open_reply(dashboard(as_user=CM), mention.id)
    at.text_area(key=f"reply_text_{mention.id}").input("x" * 501).run(timeout=30)
    assert send_button(at, mention.id).disabled
    assert t("reply_too_long", platform="Mastodon", n="501", limit="500") in shown(at)


def test_a_card_whose_source_takes_no_reply_has_no_reply_expander(
    es: Elasticsearch, names: IndexNames, dashboard, token: None
):
    index_mentions(es, names, [make_mention("rss-1", source="lumio-news", platform="news")])
    at = dashboard(as_user=CM)
    assert not [e for e in at.expander if e.label.startswith(t("reply_panel"))]


@pytest.mark.parametrize("settings_file", [{"require_approval": True}], indirect=True)
def test_with_approval_a_draft_waits_for_an_approver_who_sends_it(
    es: Elasticsearch, names: IndexNames, dashboard, instance: MastodonInstance, token: None
):
    mention = toot(es, names)
    camille = open_reply(dashboard(as_user=CM), mention.id)
    assert send_button(camille, mention.id).label == t("reply_submit")
    camille.text_area(key=f"reply_text_{mention.id}").input("@julie@mastodon.example Bonjour !")
    send_button(camille, mention.id).click().run(timeout=30)
    assert [i.value for i in camille.info] == [t("reply_submitted")]
    assert instance.posted == []
    assert "waiting for approval · written by Camille Roux" in shown(camille)
    assert not [e for e in camille.expander if e.label == plural("approvals_waiting", 1)]  # CM: no list

    marc = dashboard(as_user=MARKETER)
    (waiting,) = [e for e in marc.expander if e.label == plural("approvals_waiting", 1)]
    assert "@julie@mastodon.example Bonjour !" in [el.value for el in waiting.text]
    (reply,) = replies_to(es, names, [mention.id])[mention.id]
    marc.button(key=f"reply_approve_{reply.id}").click().run(timeout=30)

    assert [s.value for s in marc.success] == [t("reply_sent", platform="Mastodon")]
    (posted,) = instance.posted
    assert posted.in_reply_to == STATUS_ID
    assert not [e for e in marc.expander if e.label == plural("approvals_waiting", 1)]
    done = replies_to(es, names, [mention.id])[mention.id][0]
    assert (done.status, done.approved_by) == ("sent", MARKETER)


HOSTILE = "[Cliquez ici](https://phish.example/x) www.phish.example julie@phish.example"


@pytest.mark.parametrize("settings_file", [{"require_approval": True}], indirect=True)
def test_hostile_text_in_a_post_and_its_replies_makes_no_link_in_the_panel_or_the_approvals(
    es: Elasticsearch, names: IndexNames, dashboard, instance: MastodonInstance, token: None
):
    """Drafts, the platform's error and answer, and an approver's reason are outside text too."""
    mention = make_mention(
        STATUS_ID,
        source="lumio-mastodon",
        author={"handle": "evil@phish.example", "display_name": HOSTILE},
        text=HOSTILE,
        raw={"id": STATUS_ID, "visibility": "public"},
    )
    index_mentions(es, names, [mention])
    now = datetime.now(UTC)
    written = {
        "mention_id": mention.id,
        "source": "lumio-mastodon",
        "platform": "mastodon",
        "in_reply_to": STATUS_ID,
        "text": HOSTILE,
        "drafted_by": CM,
        "drafted_at": now,
        "updated_at": now,
    }
    for reply in (
        Reply(id="draft", status="draft", **written),
        Reply(id="failed", status="failed", attempts=1, error=f"HTTP 422: {HOSTILE}", **written),
        Reply(
            id="rejected",
            status="rejected",
            rejected_by=MARKETER,
            rejected_at=now,
            rejection=HOSTILE,
            **written,
        ),
        Reply(
            id="sent",
            status="sent",
            sent_by=CM,
            sent_at=now,
            platform_id=HOSTILE,
            platform_url="https://phish.example/@lumiocare/1",
            **written,
        ),
    ):
        create_reply(es, names, reply)

    at = open_reply(dashboard(as_user=MARKETER), mention.id)  # an approver: the list and the thread

    assert not at.exception
    assert [e for e in at.expander if e.label == plural("approvals_waiting", 1)]
    assert HOSTILE in [el.value for el in at.text]  # shown, as text
    assert [link for link in clickable(at) if "phish" in link] == []
