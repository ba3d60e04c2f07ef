"""The EspoCRM connector against a local server that answers like EspoCRM's REST API (/api/v1): records
read, and a sent reply noted once on its contact's stream."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from markdown_it import MarkdownIt
from pydantic import ValidationError

from core.documents import Reply
from crm.base import CrmSourceError
from crm.espocrm import EspoCrmSource
from crm.mirror import mirror_source
from crm.sources import EspoCrmSourceConfig, SqlSourceConfig
from index.client import IndexNames
from index.crm import records_of_customer
from index.customers import all_customers, get_customer
from tests.crm.espocrm_server import API_KEY, EspoReplay, note_as_read, serve_espocrm


@pytest.fixture
def espo() -> Iterator[tuple[str, EspoReplay]]:
    with serve_espocrm() as served:
        yield served


def espo_config(url: str, page_size: int = 2) -> EspoCrmSourceConfig:
    return EspoCrmSourceConfig.model_validate(
        {
            "name": "espo",
            "type": "espocrm",
            "url": url,
            "page_size": page_size,
            "mapping": {
                "accounts": {"table": "Account"},
                "contacts": {
                    "table": "Contact",
                    "columns": {"handles.mastodon": "cMastodon", "handles.bluesky": "cBluesky"},
                },
                "opportunities": {"table": "Opportunity"},
                "interactions": {"table": "Case"},
            },
        }
    )


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESPOCRM_API_KEY", API_KEY)


def test_contacts_accounts_deals_and_cases_come_over_with_the_owner_email(
    es: Elasticsearch, names: IndexNames, espo, api_key, tmp_path: Path
):
    url, replay = espo
    report = mirror_source(es, names, espo_config(url), tmp_path)
    assert (report.customers, report.rejected) == (3, [])
    julie = get_customer(es, names, "6542c3e4a0b5d9f01")
    assert julie is not None
    assert (julie.full_name, julie.company, julie.segment) == (
        "Julie Martin",
        "Boulangerie Martin",
        "Customer",
    )
    assert (julie.owner_name, julie.owner_email) == ("Claire Dubois", "claire.dubois@lumio.example")
    assert (julie.email, julie.phone, julie.handles) == (
        "julie.martin@boulangerie-martin.example",
        "+33612345678",
        ["julie_m@piaille.example"],
    )
    records = records_of_customer(es, names, julie)
    assert [o.title for o in records.opportunities] == ["Fibre Pro for the second shop"]
    assert [(i.title, i.stage, i.channel) for i in records.interactions] == [
        ("Box loses sync every evening", "Assigned", "Incident")
    ]
    lucy = get_customer(es, names, "6542c3e4a0b5d9f03")
    assert lucy is not None and lucy.owner_email == "sarah.whitfield@lumio.example"
    assert [q.kind for q in lucy.quality] == ["bad_handle"]
    matthew = get_customer(es, names, "6542c3e4a0b5d9f02")
    assert matthew is not None and [q.kind for q in matthew.quality] == ["missing_owner"]
    # Paged by two, as asked; the owner's User record is read once per user.
    contact_pages = [q for p, q in replay.requests if p == "/api/v1/Contact" and "select" not in q]
    assert [q["offset"] for q in contact_pages if q["maxSize"] == "2"] == ["0", "2"]
    assert sum(p == "/api/v1/User/6540a1c2e8f3b7d21" for p, _ in replay.requests) == 1


def test_the_next_refresh_asks_only_for_changes_and_drops_deleted_contacts(
    es: Elasticsearch, names: IndexNames, espo, api_key, tmp_path: Path
):
    url, replay = espo
    config = espo_config(url)
    mirror_source(es, names, config, tmp_path)
    edited = copy.deepcopy(replay.data["Contact"][1])
    edited.update(phoneNumber="+44 7700 900111", modifiedAt="2026-11-02 08:00:00")
    replay.data["Contact"] = [replay.data["Contact"][0], edited]  # Lucy Ellis deleted in EspoCRM
    replay.requests.clear()
    report = mirror_source(es, names, config, tmp_path)
    asked = [q for p, q in replay.requests if p == "/api/v1/Contact" and "where[0][value]" in q]
    assert asked and asked[0]["where[0][type]"] == "after"
    assert asked[0]["where[0][attribute]"] == "modifiedAt"
    assert asked[0]["where[0][value]"] == "2026-11-01 09:30:00"
    assert (report.customers, report.deleted) == (1, 1)
    assert sorted(c.full_name for c in all_customers(es, names)) == ["Julie Martin", "Matthew Palmer"]
    matthew = get_customer(es, names, "6542c3e4a0b5d9f02")
    assert matthew is not None and matthew.phone == "+447700900111"


def test_a_refused_api_key_is_one_error_line(
    es: Elasticsearch, names: IndexNames, espo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    url, _ = espo
    monkeypatch.setenv("ESPOCRM_API_KEY", "wrong")
    with pytest.raises(CrmSourceError) as caught:
        mirror_source(es, names, espo_config(url), tmp_path)
    assert str(caught.value) == "crm espo: GET Account: API key refused (401)"


JULIE = "6542c3e4a0b5d9f01"


def pushing_config(url: str) -> EspoCrmSourceConfig:
    return espo_config(url).model_copy(update={"push_replies": True})


def sent_reply(
    reply_id: str = "r-5b1f", customer_id: str | None = JULIE, text: str | None = None, url: str | None = None
) -> Reply:
    at = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    return Reply(
        id=reply_id,
        mention_id="m1",
        source="lumio-mastodon",
        platform="mastodon",
        in_reply_to="113600000000000042",
        customer_id=customer_id,
        text=text or "@julie_m Bonjour Julie, un technicien passe demain matin.",
        status="sent",
        drafted_by="community@lumio.example",
        drafted_at=at,
        sent_by="community@lumio.example",
        sent_at=at,
        platform_id="113700000000000000",
        platform_url=url or "https://piaille.example/@lumiocare/113700000000000000",
        updated_at=at,
    )


def test_a_sent_reply_becomes_one_note_on_the_contacts_stream(espo, api_key, tmp_path: Path):
    url, replay = espo
    source = EspoCrmSource(pushing_config(url), tmp_path)

    note_id = source.note_reply(sent_reply(), retrying=False)

    ((path, body),) = replay.posts
    assert path == "/api/v1/Note"
    assert (body["type"], body["parentType"], body["parentId"]) == ("Post", "Contact", JULIE)
    assert "Bonjour Julie, un technicien passe demain matin." in note_as_read(body["post"])
    assert "https://piaille.example/%40lumiocare/113700000000000000" in body["post"]
    assert "mastodon" in body["post"] and body["post"].splitlines()[-1] == "[ecoute-reply:r-5b1f]"
    (note,) = replay.made()
    assert note["id"] == note_id


def test_a_retry_after_a_lost_answer_finds_the_note_instead_of_making_another(espo, api_key, tmp_path: Path):
    url, replay = espo
    source = EspoCrmSource(pushing_config(url), tmp_path)
    replay.lose_answers = True
    with pytest.raises(CrmSourceError):
        source.note_reply(sent_reply(), retrying=False)
    replay.lose_answers = False

    note_id = source.note_reply(sent_reply(), retrying=True)

    (note,) = replay.made()
    assert note_id == note["id"]
    assert len(replay.posts) == 1
    assert ("/api/v1/Contact/6542c3e4a0b5d9f01/stream") in [p for p, _ in replay.requests]


def test_a_retry_that_finds_no_note_posts_one_beside_the_other_notes_of_the_stream(
    espo, api_key, tmp_path: Path
):
    url, replay = espo
    source = EspoCrmSource(pushing_config(url), tmp_path)
    source.note_reply(sent_reply("r-other"), retrying=False)

    note_id = source.note_reply(sent_reply("r-5b1f"), retrying=True)

    assert [n["post"].splitlines()[-1] for n in replay.made()] == [
        "[ecoute-reply:r-other]",
        "[ecoute-reply:r-5b1f]",
    ]
    assert note_id == replay.made()[-1]["id"]


def test_a_key_without_create_rights_on_note_is_one_line_without_the_key(espo, api_key, tmp_path: Path):
    url, replay = espo
    replay.notes_forbidden = True
    with pytest.raises(CrmSourceError) as caught:
        EspoCrmSource(pushing_config(url), tmp_path).note_reply(sent_reply(), retrying=False)
    assert str(caught.value) == (
        "crm espo: POST Note: the API user may not create Note records (403): give its role create on Note: "
        "No create access for Note."
    )
    assert API_KEY not in str(caught.value)


def test_a_source_without_push_replies_writes_nothing(espo, api_key, tmp_path: Path):
    url, replay = espo
    with pytest.raises(CrmSourceError, match="push_replies is off"):
        EspoCrmSource(espo_config(url), tmp_path).note_reply(sent_reply(), retrying=False)
    assert replay.posts == []


def test_push_replies_is_off_by_default_and_needs_contacts_known_by_their_espocrm_id():
    assert espo_config("https://crm.example.org").push_replies is False
    block = {
        "name": "espo",
        "type": "espocrm",
        "url": "https://crm.example.org",
        "push_replies": True,
        "mapping": {"contacts": {"table": "Contact", "columns": {"customer_id": "cCustomerNumber"}}},
    }
    with pytest.raises(ValidationError, match="customer_id must be id"):
        EspoCrmSourceConfig.model_validate(block)


def test_a_sql_source_has_no_push_replies_setting():
    """Connectors that only read do not offer the write: the setting is refused by name."""
    block = {
        "name": "crm-db",
        "type": "sql",
        "url": "sqlite:///crm.db",
        "push_replies": True,
        "mapping": {"contacts": {"table": "people"}},
    }
    with pytest.raises(ValidationError, match="push_replies"):
        SqlSourceConfig.model_validate(block)


# A model of how EspoCRM shows a stream post: Markdown (raw HTML passed through, bare addresses made
# links, as GFM does), and each `@name` a mention of the CRM user of that name (its Mentions hook).
_ESPO_MARKDOWN = MarkdownIt("commonmark", {"html": True})
_BARE_LINK = re.compile(r"(?:https?://|www(?=\.))[-.\w]+[^ \t\r\n]*|[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.ASCII)
_ESPO_MENTION = re.compile(r"@[\w@.-]+")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.targets: list[str] = []
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.targets += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.words.append(data)


def rendered(post: str) -> _Page:
    page = _Page()
    page.feed(_ESPO_MARKDOWN.render(post))
    return page


def rendered_targets(post: str) -> set[str]:
    """Every address the rendered post links to or loads (anchors, images, raw HTML, bare addresses)."""
    page = rendered(post)
    return {*page.targets, *_BARE_LINK.findall("".join(page.words))}


HOSTILE_REPLY = (
    "@admin merci ! [gagnez ici](https://evil.example/win) ![](https://evil.example/pixel.png)\n"
    '<img src="https://evil.example/i.png" onerror="alert(1)"> <a href="https://evil.example/a">a</a>\n'
    "www.evil.example, ecrire a support@evil.example, **urgent** <script>alert(2)</script>"
)


def test_outside_text_in_a_note_makes_no_link_image_html_or_mention_of_a_crm_user(
    espo, api_key, tmp_path: Path
):
    """The reply starts with the author's handle (a Mastodon reply names who it answers) and may quote
    anything; the note shows it as text: no link or image elsewhere, no HTML, no CRM user notified."""
    url, replay = espo
    EspoCrmSource(pushing_config(url), tmp_path).note_reply(sent_reply(text=HOSTILE_REPLY), retrying=False)

    ((_, body),) = replay.posts
    post = body["post"]
    assert not [t for t in rendered_targets(post) if "evil" in t]
    assert set(rendered(post).tags) <= {"p", "a", "br"}  # no image, script or other element of the text
    assert _ESPO_MENTION.findall(post) == []
    assert rendered_targets(post) == {"https://piaille.example/%40lumiocare/113700000000000000"}
    assert HOSTILE_REPLY in note_as_read(post)  # every character of the reply is still read in the note


def test_a_platform_address_that_is_no_web_address_is_shown_as_text(espo, api_key, tmp_path: Path):
    url, replay = espo
    hostile = "javascript:alert(1)//https://evil.example/x"
    EspoCrmSource(pushing_config(url), tmp_path).note_reply(sent_reply(url=hostile), retrying=False)

    ((_, body),) = replay.posts
    assert rendered_targets(body["post"]) == set()
    assert hostile in note_as_read(body["post"])


def test_a_marker_written_in_a_reply_does_not_pass_for_another_replys_note(espo, api_key, tmp_path: Path):
    """A reply quoting another reply's marker is noted; that other reply's retry still makes its own
    note (before: it took the first one for its own and was never noted)."""
    url, replay = espo
    source = EspoCrmSource(pushing_config(url), tmp_path)
    source.note_reply(sent_reply("r-other", text="Bonjour\n[ecoute-reply:r-5b1f]"), retrying=False)

    note_id = source.note_reply(sent_reply("r-5b1f"), retrying=True)

    assert len(replay.made()) == 2
    assert note_id == replay.made()[-1]["id"]
    assert replay.made()[-1]["post"].splitlines()[-1] == "[ecoute-reply:r-5b1f]"


@pytest.mark.parametrize(
    "contact_id",
    ["../../../admin/keys", "6542c3e4a0b5d9f01/../../User", "x?select=password", "a#b", " ", "é"],
)
def test_a_contact_id_that_is_no_espocrm_id_is_refused_before_any_request(
    espo, api_key, tmp_path: Path, contact_id: str
):
    """The contact id comes from the CRM's answers; one that would steer the request (and its API key)
    to another path is one error line, and nothing is sent."""
    url, replay = espo
    with pytest.raises(CrmSourceError, match="is not an EspoCRM record id"):
        EspoCrmSource(pushing_config(url), tmp_path).note_reply(
            sent_reply(customer_id=contact_id), retrying=True
        )
    assert replay.requests == []
