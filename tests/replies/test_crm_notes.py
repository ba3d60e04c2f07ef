"""A sent reply noted in the customer's own CRM: a local Mastodon instance takes the reply, a local
EspoCRM-like server (tests/crm/espocrm_server.py) takes the note, with the real index in between."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from crm.mirror import mirror_source
from crm.sources import EspoCrmSourceConfig
from ecoute.stages.crm import CrmReplyNotes
from index.client import EmbeddedServer, IndexNames
from index.customers import upsert_customers
from index.replies import REPLIES, get_reply, replies_to_push, save_reply
from replies.outbox import Outbox
from replies.settings import ReplyPolicy
from tests.collectors.conftest import ScriptedServer
from tests.conftest import write_config
from tests.crm.espocrm_server import API_KEY, EspoReplay, note_as_read, serve_espocrm
from tests.factories import make_customer
from tests.replies.conftest import TOKEN, MastodonInstance
from tests.replies.test_outbox import CM, mastodon_source, toot

JULIE = "6542c3e4a0b5d9f01"
TEXT = "@julie_m@piaille.example Bonjour Julie, un technicien passe demain matin."


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mastodon(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> MastodonInstance:
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    return MastodonInstance(server)


@pytest.fixture
def espo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, EspoReplay]]:
    monkeypatch.setenv("ESPOCRM_API_KEY", API_KEY)
    with serve_espocrm() as served:
        yield served


def espo_source(url: str, push_replies: bool = True) -> EspoCrmSourceConfig:
    block = {
        "name": "espo",
        "type": "espocrm",
        "url": url,
        "mapping": {"accounts": {"table": "Account"}, "contacts": {"table": "Contact"}},
    }
    return EspoCrmSourceConfig.model_validate({**block, **({"push_replies": True} if push_replies else {})})


@pytest.fixture
def clock() -> Clock:
    return Clock()


def outbox_with_crm(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance, crm: EspoCrmSourceConfig, clock: Clock
) -> Outbox:
    notes = CrmReplyNotes([crm], Path("."))
    return Outbox(es, names, ReplyPolicy(), [mastodon_source(mastodon.url)], clock=clock, crm=notes)


def mirrored(es: Elasticsearch, names: IndexNames, crm: EspoCrmSourceConfig, tmp_path: Path) -> None:
    """Julie and the others as the CRM refresh brings them: customers of the source `espo`."""
    mirror_source(es, names, crm, tmp_path)


def test_a_sent_reply_is_one_note_on_the_customers_espocrm_contact(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)

    reply = outbox_with_crm(es, names, mastodon, crm, clock).write(mention, TEXT, by=CM, reply_id="r1")

    (note,) = replay.made()
    assert (note["parentType"], note["parentId"]) == ("Contact", JULIE)
    assert TEXT in note_as_read(note["post"]) and reply.platform_url.replace("@", "%40") in note["post"]
    assert reply.status == "sent"
    assert (reply.crm_source, reply.crm_note_id, reply.crm_pushed_at) == ("espo", note["id"], clock.now)
    assert get_reply(es, names, "r1").reply == reply
    assert len(mastodon.posted) == 1


def test_a_crm_answering_500_then_200_ends_with_one_note_and_the_reply_stays_sent(
    es: Elasticsearch,
    names: IndexNames,
    mastodon,
    espo,
    clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    replay.post_failures = [500]
    box = outbox_with_crm(es, names, mastodon, crm, clock)

    with caplog.at_level(logging.WARNING, logger="ecoute.replies"):
        reply = box.write(mention, TEXT, by=CM, reply_id="r1")

    assert reply.status == "sent" and reply.crm_note_id is None
    assert reply.crm_push_error == "crm espo: POST Note: HTTP 500: Internal Server Error"
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == (
        "reply r1: not noted in CRM espo (attempt 1): crm espo: POST Note: HTTP 500: Internal Server Error; "
        "tried again later"
    )
    assert API_KEY not in caplog.text
    assert replay.made() == []

    clock.now += timedelta(seconds=20)
    assert box.push_pending() == []  # a failure waits a minute before the next pass tries again
    clock.now += timedelta(minutes=1)
    (pushed,) = box.push_pending()
    assert box.push_pending() == []

    (note,) = replay.made()
    stored = get_reply(es, names, "r1").reply
    assert stored == pushed
    assert (stored.status, stored.crm_note_id, stored.crm_push_error) == ("sent", note["id"], None)
    assert stored.crm_push_attempts == 2
    assert len(mastodon.posted) == 1  # the reply itself is never posted again


def test_a_note_whose_answer_was_lost_is_found_on_the_stream_not_made_twice(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    replay.lose_answers = True
    box = outbox_with_crm(es, names, mastodon, crm, clock)
    reply = box.write(mention, TEXT, by=CM, reply_id="r1")
    assert reply.status == "sent" and reply.crm_push_error is not None
    replay.lose_answers = False

    clock.now += timedelta(minutes=2)
    (pushed,) = box.push_pending()

    (note,) = replay.made()
    assert pushed.crm_note_id == note["id"]
    assert len(replay.posts) == 1


def test_a_push_cut_short_is_tried_again_only_once_it_is_stale(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    """A process that stopped between recording the attempt and its outcome: another pass takes it
    over after five minutes, looking on the stream first."""
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    Outbox(es, names, ReplyPolicy(), [mastodon_source(mastodon.url)], clock=clock).write(
        mention, TEXT, CM, "r1"
    )
    read = get_reply(es, names, "r1")
    attempted = {"crm_source": "espo", "crm_push_attempts": 1, "crm_push_attempted_at": clock.now}
    save_reply(es, names, read, read.reply.model_copy(update=attempted))
    box = outbox_with_crm(es, names, mastodon, crm, clock)

    clock.now += timedelta(minutes=1)
    assert box.push_pending() == []
    clock.now += timedelta(minutes=5)
    (pushed,) = box.push_pending()

    (note,) = replay.made()
    assert pushed.crm_note_id == note["id"]
    assert "/api/v1/Contact/6542c3e4a0b5d9f01/stream" in [p for p, _ in replay.requests]


def test_replies_failing_for_good_never_keep_a_due_one_from_being_noted(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    """Replies whose contact is gone from the CRM fail at every pass (hourly); more of them than one
    pass takes, sent earlier, must not hide a later reply whose retry is due (before: the pass read only
    the oldest sent, none of them due, and the later reply was never noted)."""
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    Outbox(es, names, ReplyPolicy(), [mastodon_source(mastodon.url)], clock=clock).write(
        mention, TEXT, CM, "r1"
    )
    read = get_reply(es, names, "r1")
    failed_once = {
        "crm_source": "espo",
        "crm_push_attempts": 1,
        "crm_push_attempted_at": clock.now - timedelta(minutes=5),
        "crm_push_error": "crm espo: POST Note: HTTP 500: Internal Server Error",
    }
    save_reply(es, names, read, read.reply.model_copy(update=failed_once))
    for n in range(3):  # sent the day before, failing for good, tried again half an hour ago
        stuck = read.reply.model_copy(
            update={
                "id": f"stuck-{n}",
                "customer_id": "6542c3e4a0b5d9f99",
                "sent_at": read.reply.sent_at - timedelta(days=1, minutes=n),
                "crm_source": "espo",
                "crm_push_attempts": 12,
                "crm_push_attempted_at": clock.now - timedelta(minutes=30),
                "crm_push_error": "crm espo: POST Note: HTTP 400: Parent record not found.",
            }
        )
        es.index(
            index=REPLIES.alias(names), id=stuck.id, document=stuck.model_dump(mode="json"), refresh=True
        )
    box = outbox_with_crm(es, names, mastodon, crm, clock)
    due = replies_to_push(es, names, 1, due=lambda r: not r.id.startswith("stuck"), page=2)
    assert [r.id for r in due] == ["r1"]  # found on the second page of two

    (pushed,) = box.push_pending(limit=3)

    (note,) = replay.made()
    assert (pushed.id, pushed.crm_note_id) == ("r1", note["id"])


def test_push_replies_off_by_default_sends_nothing_to_the_crm(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    url, replay = espo
    crm = espo_source(url, push_replies=False)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    box = outbox_with_crm(es, names, mastodon, crm, clock)

    reply = box.write(mention, TEXT, by=CM, reply_id="r1")
    clock.now += timedelta(hours=2)
    assert box.push_pending() == []

    assert reply.status == "sent" and reply.crm_source is None
    assert replay.posts == []


def test_a_customer_whose_crm_source_is_not_espocrm_pushes_nothing(
    es: Elasticsearch, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    url, replay = espo
    crm = espo_source(url)
    upsert_customers(es, names, [make_customer("C-7", source="crm-csv")])
    mention = toot(es, names, customer_id="C-7")
    box = outbox_with_crm(es, names, mastodon, crm, clock)

    reply = box.write(mention, TEXT, by=CM, reply_id="r1")
    clock.now += timedelta(hours=2)
    assert box.push_pending() == []

    assert reply.status == "sent" and reply.crm_source is None
    assert replay.posts == []


def test_ecoute_crm_push_replies_notes_a_failed_one_at_once(
    es: Elasticsearch, es_server: EmbeddedServer, names: IndexNames, mastodon, espo, clock, tmp_path: Path
):
    url, replay = espo
    crm = espo_source(url)
    mirrored(es, names, crm, tmp_path)
    mention = toot(es, names, customer_id=JULIE)
    replay.post_failures = [503]
    reply = outbox_with_crm(es, names, mastodon, crm, clock).write(mention, TEXT, by=CM, reply_id="r1")
    assert reply.crm_push_error == "crm espo: POST Note: HTTP 503: Internal Server Error"
    block = crm.model_dump(mode="json", exclude_defaults=True) | {"type": "espocrm", "push_replies": True}
    config = write_config(tmp_path, es_server.url, names.prefix, crm={"sources": [block]})

    done = subprocess.run(
        [sys.executable, "-m", "ecoute", "crm", "push-replies", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr
    (note,) = replay.made()
    assert done.stdout.splitlines() == [
        f"reply r1: noted in espo ({note['id']})",
        "crm replies: 1 of 1 noted",
    ]
    assert get_reply(es, names, "r1").reply.crm_note_id == note["id"]
