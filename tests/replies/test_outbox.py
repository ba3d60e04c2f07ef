"""Replies from the Inbox against local servers that take them as each platform does and record them,
with the real index: posted once, under the right post, then in the mention's history and the CRM."""

from __future__ import annotations

import contextlib
import threading

import pytest
from elasticsearch import Elasticsearch

from collectors.bluesky import BlueskyConfig
from collectors.discourse import DiscourseConfig
from collectors.files import FileConfig
from collectors.mastodon import MastodonConfig
from collectors.reddit import RedditConfig
from collectors.youtube import YoutubeConfig
from core.documents import Mention
from crm.base import CrmPull
from crm.mirror import write_pull
from index.client import IndexNames
from index.crm import records_of_customer
from index.customers import get_customer, upsert_customers
from index.mentions import get_mention, index_mentions
from index.privacy import delete_mentions_and_alerts, erase_person, find_person
from index.replies import ReplyChangedError, awaiting_approval, get_reply, replies_to
from replies.outbox import Outbox, ReplyRefused
from replies.settings import ReplyPolicy
from tests.collectors.conftest import Reply as Answer
from tests.collectors.conftest import ScriptedServer
from tests.factories import make_customer, make_mention
from tests.replies.conftest import (
    DID,
    HANDLE,
    TOKEN,
    BlueskyPds,
    DiscourseForum,
    MastodonInstance,
    RedditApi,
    YoutubeApi,
)

CM = "community@lumio.example"
MARKETER = "marketing@lumio.example"
ADMIN = "admin@lumio.example"
STATUS_ID = "113600000000000042"
POST_URI = "at://did:plc:u4x7dcjwq2hkzbrn3yv6pfam/app.bsky.feed.post/3lbx6h2kq7c2s"
POST_CID = "bafyreihx6jq2tq3cfyv2zjmn5o4aq6bgylh5xyn2w3ffh5bm7zcq4q2lqe"


def mastodon_source(url: str) -> MastodonConfig:
    return MastodonConfig(
        name="lumio-mastodon", instance=url, hashtags=["lumio"], local=True, token_env="TEST_MASTODON_TOKEN"
    )


def bluesky_source(url: str) -> BlueskyConfig:
    return BlueskyConfig(
        name="lumio-bluesky",
        base_url=url,
        pds_url=url,
        queries=["lumio"],
        local=True,
        handle_env="TEST_BSKY_HANDLE",
        app_password_env="TEST_BSKY_PASSWORD",
    )


def discourse_source(url: str) -> DiscourseConfig:
    return DiscourseConfig(
        name="lumio-forum",
        base_url=url,
        queries=["lumio"],
        local=True,
        api_key_env="TEST_DISCOURSE_KEY",
        api_username_env="TEST_DISCOURSE_USER",
    )


@pytest.fixture
def mastodon(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> MastodonInstance:
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    return MastodonInstance(server)


@pytest.fixture
def bluesky(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> BlueskyPds:
    monkeypatch.setenv("TEST_BSKY_HANDLE", HANDLE)
    monkeypatch.setenv("TEST_BSKY_PASSWORD", "app-pass-word-1234")
    return BlueskyPds(server, password="app-pass-word-1234")


@pytest.fixture
def forum(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> DiscourseForum:
    monkeypatch.setenv("TEST_DISCOURSE_KEY", "forum-api-key")
    monkeypatch.setenv("TEST_DISCOURSE_USER", "lumio_support")
    return DiscourseForum(server, key="forum-api-key", username="lumio_support")


def outbox(es: Elasticsearch, names: IndexNames, *sources, approval: bool = False) -> Outbox:
    return Outbox(es, names, ReplyPolicy(require_approval=approval), sources)


def stored(es: Elasticsearch, names: IndexNames, mention: Mention) -> Mention:
    index_mentions(es, names, [mention])
    return mention


def toot(es: Elasticsearch, names: IndexNames, **overrides) -> Mention:
    fields = {
        "source": "lumio-mastodon",
        "platform": "mastodon",
        "author": {"handle": "julie@mastodon.example", "display_name": "Julie"},
        "text": "Ma box Lumio clignote rouge depuis ce matin.",
        "raw": {"id": STATUS_ID, "visibility": "unlisted"},
        **overrides,
    }
    return stored(es, names, make_mention(STATUS_ID, **fields))


def test_a_mastodon_reply_reaches_the_instance_under_the_mention(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(mastodon.url))
    text = "@julie@mastodon.example Bonjour Julie, nous regardons votre ligne tout de suite."

    reply = box.write(mention, text, by=CM, reply_id="r1")

    (posted,) = mastodon.posted
    assert (posted.in_reply_to, posted.text) == (STATUS_ID, text)
    assert posted.extra["visibility"] == "unlisted"  # as visible as the post it answers
    assert posted.request.header("Idempotency-Key") == "r1"
    assert reply.status == "sent" and reply.sent_by == CM and reply.attempts == 1
    assert reply.platform_id == "113700000000000000"
    assert reply.platform_url == f"{mastodon.url}/@lumiocare/113700000000000000"
    assert get_reply(es, names, "r1").reply == reply


@pytest.mark.parametrize("visibility", ["direct", "private"])
def test_a_reply_to_a_direct_or_followers_only_post_is_never_made_public(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance, visibility: str
):
    mention = toot(es, names, raw={"id": STATUS_ID, "visibility": visibility})
    box = outbox(es, names, mastodon_source(mastodon.url))

    box.write(mention, "@julie@mastodon.example Votre numéro de contrat est le 4471.", by=CM, reply_id="r1")

    (posted,) = mastodon.posted
    assert posted.extra["visibility"] == visibility


def test_a_post_stored_without_its_visibility_is_answered_as_the_instance_says_it_is_visible(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names, raw={})  # as a pseudonymised author's post is stored
    mastodon.server.script(
        f"/api/v1/statuses/{STATUS_ID}", Answer(200, {"id": STATUS_ID, "visibility": "direct"})
    )
    box = outbox(es, names, mastodon_source(mastodon.url))

    box.write(mention, "@julie@mastodon.example Bonjour Julie.", by=CM, reply_id="r1")

    (posted,) = mastodon.posted
    assert posted.extra["visibility"] == "direct"


def test_a_mention_whose_stored_addresses_point_elsewhere_is_answered_on_the_configured_instance_only(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    """A post's URL, payload and id come from the platform (or whoever federated it): never an address."""
    elsewhere = ScriptedServer()
    elsewhere.start()
    try:
        traversal = "../../../admin/accounts?x="
        raw = {"url": f"{elsewhere.url}/@julie/1", "uri": f"{elsewhere.url}/users/julie/statuses/1"}
        mention = make_mention(traversal, source="lumio-mastodon", url=f"{elsewhere.url}/@julie/1", raw=raw)
        stored(es, names, mention)
        mastodon.server.script(
            "/api/v1/statuses/..%2F..%2F..%2Fadmin%2Faccounts%3Fx%3D", Answer(200, {"visibility": "public"})
        )
        outbox(es, names, mastodon_source(mastodon.url)).write(mention, "Bonjour !", CM, "r1")
    finally:
        elsewhere.stop()

    assert elsewhere.seen() == []
    assert [(r.method, r.path) for r in mastodon.server.seen()] == [
        ("GET", "/api/v1/statuses/..%2F..%2F..%2Fadmin%2Faccounts%3Fx%3D"),
        ("POST", "/api/v1/statuses"),
    ]
    (posted,) = mastodon.posted
    assert posted.in_reply_to == traversal  # a value in the body, never a path


def test_a_sent_reply_is_in_the_mention_history_and_answers_it(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    reply = outbox(es, names, mastodon_source(mastodon.url)).write(mention, "@julie Bonjour !", CM, "r1")

    after = get_mention(es, names, mention.id)
    assert after.status == "answered"
    assert [(c.field, c.by, c.old, c.new) for c in after.history] == [
        ("reply", CM, None, reply.platform_url),
        ("status", CM, "new", "answered"),
    ]
    assert after.triage.updated_by == CM
    assert replies_to(es, names, [mention.id]) == {mention.id: [reply]}


def test_a_closed_mention_stays_closed_when_answered(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names, status="closed")
    outbox(es, names, mastodon_source(mastodon.url)).write(mention, "Merci Julie !", CM, "r1")
    after = get_mention(es, names, mention.id)
    assert after.status == "closed"
    assert [c.field for c in after.history] == ["reply"]


def test_the_reply_is_an_interaction_on_the_customer_record_that_an_import_keeps(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    upsert_customers(es, names, [make_customer("C-7", source="crm-csv", account_id="A-7")])
    mention = toot(es, names, customer_id="C-7")
    reply = outbox(es, names, mastodon_source(mastodon.url)).write(
        mention, "Bonjour Julie, un technicien passe demain.", CM, "r1"
    )
    # the CRM's next import no longer lists any interaction of its own: ours is not its to remove
    write_pull(es, names, CrmPull(source="crm-csv", present={"interactions": set()}), "FR", incremental=True)

    customer = get_customer(es, names, "C-7")
    (interaction,) = records_of_customer(es, names, customer).interactions
    assert interaction.customer_id == "C-7" and interaction.account_id == "A-7"
    assert interaction.channel == "mastodon reply"
    assert interaction.title == "Bonjour Julie, un technicien passe demain."
    assert interaction.stage == "sent" and interaction.occurred_at == reply.sent_at


def test_clicking_send_twice_or_sending_again_posts_once(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names, customer_id=None)
    box = outbox(es, names, mastodon_source(mastodon.url))
    first = box.write(mention, "Bonjour Julie !", CM, "r1")
    again = box.write(mention, "Bonjour Julie !", CM, "r1")  # the same draft, a second click
    retried = box.send("r1", CM)

    assert len(mastodon.posted) == 1
    assert again == retried == first
    assert len(get_mention(es, names, mention.id).history) == 2  # one reply, one status change


def test_a_retry_after_a_lost_answer_gets_the_first_status_back(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(mastodon.url))
    mastodon.lose_answers = True
    failed = box.write(mention, "Bonjour Julie !", CM, "r1")
    assert failed.status == "failed" and "HTTP 502" in failed.error
    assert get_mention(es, names, mention.id).status == "new"  # not known to be answered yet

    mastodon.lose_answers = False
    sent = box.send("r1", CM)
    assert sent.status == "sent" and sent.attempts == 2
    assert len(mastodon.posted) == 1  # the instance recognised the Idempotency-Key
    assert sent.platform_id == "113700000000000000"


def test_a_refused_reply_is_failed_with_the_platform_reason_and_keeps_its_text(
    es: Elasticsearch, names: IndexNames, forum: DiscourseForum
):
    mention = stored(es, names, make_mention("5120/3", source="lumio-forum", platform="forum"))
    box = outbox(es, names, discourse_source(forum.url))
    forum.fail_with = Answer(
        422, {"action": "create_post", "errors": ["Body is too similar to what you recently posted"]}
    )
    failed = box.write(mention, "Bonjour, la panne de Lyon est réparée depuis 14 h.", CM, "r1")

    assert failed.status == "failed"
    assert (
        failed.error == f"{forum.url}/posts.json: HTTP 422: Body is too similar to what you recently posted"
    )
    assert get_reply(es, names, "r1").reply.text == "Bonjour, la panne de Lyon est réparée depuis 14 h."
    assert forum.posted == []

    forum.fail_with = Answer(500, "<html>Internal Server Error</html>")
    assert "HTTP 500" in box.send("r1", CM).error
    forum.fail_with = None
    sent = box.send("r1", CM)
    assert (sent.status, sent.attempts, sent.error) == ("sent", 3, None)
    (posted,) = forum.posted
    assert posted.in_reply_to == (5120, 3)
    assert sent.platform_url == f"{forum.url}/t/lumio-fibre-outage-in-lyon-anyone-else/5120/7"


def test_a_discourse_reply_goes_to_the_topic_as_the_api_user(
    es: Elasticsearch, names: IndexNames, forum: DiscourseForum
):
    mention = stored(es, names, make_mention("5120/1", source="lumio-forum", platform="forum"))
    sent = outbox(es, names, discourse_source(forum.url)).write(mention, "Merci du signalement !", CM, "r1")
    (posted,) = forum.posted
    assert posted.in_reply_to == (5120, 1)
    assert posted.request.header("Api-Username") == "lumio_support"
    assert sent.platform_id == "5120/7"


def test_a_bluesky_reply_names_the_post_as_parent_and_root(
    es: Elasticsearch, names: IndexNames, bluesky: BlueskyPds
):
    view = {"uri": POST_URI, "cid": POST_CID, "record": {"text": "Toujours pas de connexion avec Lumio"}}
    mention = stored(es, names, make_mention(POST_URI, source="lumio-bluesky", platform="bluesky", raw=view))
    sent = outbox(es, names, bluesky_source(bluesky.url)).write(mention, "Bonjour, on regarde !", CM, "r1")

    (posted,) = bluesky.posted
    ref = {"uri": POST_URI, "cid": POST_CID}
    assert posted.in_reply_to == {"root": ref, "parent": ref}
    assert posted.extra["repo"] == DID and posted.extra["collection"] == "app.bsky.feed.post"
    assert sent.platform_id == f"at://{DID}/app.bsky.feed.post/{posted.extra['rkey']}"
    assert sent.platform_url == f"https://bsky.app/profile/{HANDLE}/post/{posted.extra['rkey']}"


def test_a_bluesky_reply_in_a_thread_keeps_its_root_read_from_getposts(
    es: Elasticsearch, names: IndexNames, bluesky: BlueskyPds
):
    root = {
        "uri": "at://did:plc:u4x7dcjwq2hkzbrn3yv6pfam/app.bsky.feed.post/3lbx5zzzz2c2s",
        "cid": "bafyreiroot",
    }
    bluesky.views[POST_URI] = {
        "uri": POST_URI,
        "cid": POST_CID,
        "record": {"text": "moi aussi", "reply": {"root": root, "parent": root}},
    }
    # collected from Jetstream without its cid: the AppView gives it
    mention = stored(es, names, make_mention(POST_URI, source="lumio-bluesky", platform="bluesky", raw={}))
    outbox(es, names, bluesky_source(bluesky.url)).write(mention, "Bonjour !", CM, "r1")
    (posted,) = bluesky.posted
    assert posted.in_reply_to == {"root": root, "parent": {"uri": POST_URI, "cid": POST_CID}}


def test_a_bluesky_post_whose_answer_was_lost_is_found_not_posted_twice(
    es: Elasticsearch, names: IndexNames, bluesky: BlueskyPds
):
    view = {"uri": POST_URI, "cid": POST_CID, "record": {"text": "Toujours pas de connexion"}}
    mention = stored(es, names, make_mention(POST_URI, source="lumio-bluesky", platform="bluesky", raw=view))
    box = outbox(es, names, bluesky_source(bluesky.url))
    bluesky.lose_answers = True  # the post is made, its answer never arrives
    sent = box.write(mention, "Bonjour !", CM, "r1")

    assert sent.status == "sent"  # found under the reply's own record key
    assert sent.platform_id == next(iter(bluesky.records))
    bluesky.lose_answers = False
    assert box.send("r1", CM) == sent
    assert len(bluesky.records) == 1 and len(bluesky.posted) == 1


def test_a_wrong_app_password_fails_with_the_reason_and_never_shows_it(
    es: Elasticsearch, names: IndexNames, bluesky: BlueskyPds, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TEST_BSKY_PASSWORD", "wrong-pass-word")
    view = {"uri": POST_URI, "cid": POST_CID, "record": {"text": "Toujours pas de connexion"}}
    mention = stored(es, names, make_mention(POST_URI, source="lumio-bluesky", platform="bluesky", raw=view))
    failed = outbox(es, names, bluesky_source(bluesky.url)).write(mention, "Bonjour !", CM, "r1")
    assert failed.status == "failed"
    assert failed.error.endswith("HTTP 401: AuthenticationRequired Invalid identifier or password")
    assert "wrong-pass-word" not in failed.model_dump_json()
    assert bluesky.posted == []


def test_with_approval_a_draft_waits_then_an_approver_sends_it_once(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(mastodon.url), approval=True)
    draft = box.write(mention, "Bonjour Julie !", CM, "r1")

    assert draft.status == "draft" and mastodon.posted == []
    assert awaiting_approval(es, names) == [draft]
    assert get_mention(es, names, mention.id).status == "in_progress"
    with pytest.raises(ReplyRefused) as not_approver:
        box.approve("r1", CM, "community_manager")
    assert not_approver.value.code == "not_approver"

    sent = box.approve("r1", MARKETER, "marketer")
    assert sent.status == "sent" and (sent.approved_by, sent.sent_by) == (MARKETER, MARKETER)
    assert box.approve("r1", ADMIN, "admin") == sent  # a second approver a moment later: nothing more
    assert len(mastodon.posted) == 1
    assert awaiting_approval(es, names) == []
    assert get_mention(es, names, mention.id).status == "answered"


def test_an_approver_never_approves_their_own_reply(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(mastodon.url), approval=True)
    box.write(mention, "Bonjour Julie !", ADMIN, "r1")
    with pytest.raises(ReplyRefused) as refused:
        box.approve("r1", ADMIN, "admin")
    assert refused.value.code == "own_reply"
    assert box.send("r1", ADMIN).status == "draft"  # sending a draft does not skip its approval
    assert mastodon.posted == []


def test_approvers_and_retries_racing_on_one_draft_post_it_once(
    es: Elasticsearch, names: IndexNames, forum: DiscourseForum
):
    """Discourse has no idempotency key: only the outbox's conditional writes keep this to one post."""
    mention = stored(es, names, make_mention("5120/1", source="lumio-forum", platform="forum"))
    box = outbox(es, names, discourse_source(forum.url), approval=True)
    box.write(mention, "Merci du signalement !", CM, "r1")
    start = threading.Barrier(6)

    def approve(by: str, role: str) -> None:
        start.wait()
        with contextlib.suppress(ReplyChangedError):  # someone else approved it first
            box.approve("r1", by, role)

    def send() -> None:
        start.wait()
        box.send("r1", CM)

    racers = [threading.Thread(target=approve, args=(MARKETER, "marketer")) for _ in range(2)]
    racers += [threading.Thread(target=approve, args=(ADMIN, "admin")) for _ in range(2)]
    racers += [threading.Thread(target=send) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)

    assert len(forum.posted) == 1
    assert get_reply(es, names, "r1").reply.status == "sent"
    assert box.send("r1", CM).status == "sent" and len(forum.posted) == 1  # a replay posts nothing


def test_a_rejected_draft_is_never_posted(es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance):
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(mastodon.url), approval=True)
    box.write(mention, "Bonjour Julie, c'est votre faute.", CM, "r1")
    rejected = box.reject("r1", MARKETER, "marketer", "Pas de reproche au client.")

    assert (rejected.status, rejected.rejected_by, rejected.rejection) == (
        "rejected",
        MARKETER,
        "Pas de reproche au client.",
    )
    assert box.approve("r1", ADMIN, "admin").status == "rejected"
    assert mastodon.posted == [] and awaiting_approval(es, names) == []


def test_without_credentials_the_reply_is_refused_in_one_line_and_nothing_is_stored(
    es: Elasticsearch, names: IndexNames, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("TEST_MASTODON_TOKEN", raising=False)
    instance = MastodonInstance(server)
    mention = toot(es, names)
    box = outbox(es, names, mastodon_source(instance.url))
    assert box.replier("lumio-mastodon").missing_credentials() == ["TEST_MASTODON_TOKEN"]
    with pytest.raises(ReplyRefused) as refused:
        box.write(mention, "Bonjour !", CM, "r1")
    assert refused.value.code == "credentials"
    assert str(refused.value) == "lumio-mastodon: replies need TEST_MASTODON_TOKEN set in the environment"
    assert get_reply(es, names, "r1") is None and instance.posted == []


def test_the_platform_limits_are_checked_before_sending(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance, bluesky: BlueskyPds
):
    box = outbox(es, names, mastodon_source(mastodon.url), bluesky_source(bluesky.url))
    mention = toot(es, names)
    with pytest.raises(ReplyRefused) as too_long:
        box.write(mention, "x" * 501, CM, "r1")
    assert str(too_long.value) == "the reply is 501 characters long; Mastodon takes 500 at most"
    link = "https://www.lumio.example/aide/" + "box-fibre-" * 20
    assert box.replier("lumio-mastodon").length(f"{link} " + "x" * 476) == 500  # a link counts 23
    family = "👨‍👩‍👧"  # one grapheme of five code points
    assert box.check("lumio-bluesky", family * 300)
    with pytest.raises(ReplyRefused, match="301 characters long; Bluesky takes 300 at most"):
        box.check("lumio-bluesky", family * 301)
    with pytest.raises(ReplyRefused) as empty:
        box.write(mention, "   ", CM, "r2")
    assert empty.value.code == "empty"
    assert mastodon.posted == [] and bluesky.posted == []


def test_a_source_whose_platform_takes_no_reply_has_no_replier(es: Elasticsearch, names: IndexNames):
    box = outbox(es, names, FileConfig(name="sample", path="samples/mentions.jsonl"))
    assert box.replier("sample") is None and box.replier("gone-from-config") is None
    with pytest.raises(ReplyRefused) as refused:
        box.write(make_mention("1", source="sample"), "Bonjour", CM, "r1")
    assert refused.value.code == "no_replies"


def test_a_reddit_reply_answers_the_comment_as_the_user(
    es: Elasticsearch, names: IndexNames, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
):
    reddit = RedditApi(server)
    for name, value in {"RID": "app", "RSECRET": "s3cret", "RUSER": "lumio_care", "RPASS": "hunter2"}.items():
        monkeypatch.setenv(name, value)
    source = RedditConfig(
        name="reddit-lumio",
        queries=["lumio"],
        base_url=reddit.url,
        oauth_base_url=reddit.url,
        token_url=f"{reddit.url}/api/v1/access_token",
        local=True,
        client_id_env="RID",
        client_secret_env="RSECRET",
        username_env="RUSER",
        password_env="RPASS",
    )
    mention = stored(es, names, make_mention("t1_kx9q2", source="reddit-lumio", platform="reddit"))
    sent = outbox(es, names, source).write(mention, "Bonjour, écrivez-nous en privé.", CM, "r1")
    (posted,) = reddit.posted
    assert (posted.in_reply_to, posted.text) == ("t1_kx9q2", "Bonjour, écrivez-nous en privé.")
    assert sent.platform_id == "t1_lm1"
    assert sent.platform_url == "https://www.reddit.com/r/france/comments/kx9q2/_/lm1/"


def test_a_youtube_reply_answers_the_thread_of_the_comment(
    es: Elasticsearch, names: IndexNames, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
):
    youtube = YoutubeApi(server)
    monkeypatch.setenv("TEST_YT_OAUTH", TOKEN)
    source = YoutubeConfig(
        name="lumio-youtube",
        base_url=youtube.url,
        video_ids=["vid1"],
        local=True,
        oauth_token_env="TEST_YT_OAUTH",
    )
    # a reply inside a thread: YouTube threads are one level deep, the answer goes to the thread
    mention = make_mention(
        "Ugx.reply",
        source="lumio-youtube",
        platform="youtube",
        thread={"parent_id": "Ugx"},
        raw={"videoId": "vid1"},
    )
    sent = outbox(es, names, source).write(stored(es, names, mention), "Merci !", CM, "r1")
    (posted,) = youtube.posted
    assert posted.in_reply_to == "Ugx"
    assert sent.platform_url == "https://www.youtube.com/watch?v=vid1&lc=Ugx.reply1"


def test_erasing_the_person_answered_erases_the_replies_to_them(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    box = outbox(es, names, mastodon_source(mastodon.url))
    theirs = toot(es, names)
    other = stored(
        es, names, make_mention("999", source="lumio-mastodon", author={"handle": "marc@mastodon.example"})
    )
    box.write(theirs, "@julie@mastodon.example Bonjour Julie !", CM, "r1")
    box.write(other, "@marc@mastodon.example Bonjour Marc !", CM, "r2")

    records = find_person(es, names, handles=["julie@mastodon.example"], emails=[])
    assert [r["id"] for r in records.replies] == ["r1"]
    assert erase_person(es, names, records)["replies"] == 1
    assert get_reply(es, names, "r1") is None and get_reply(es, names, "r2") is not None


def test_a_mention_deleted_on_its_platform_takes_its_replies_along(
    es: Elasticsearch, names: IndexNames, mastodon: MastodonInstance
):
    mention = toot(es, names)
    outbox(es, names, mastodon_source(mastodon.url)).write(mention, "Bonjour Julie !", CM, "r1")
    delete_mentions_and_alerts(es, names, [mention.id])
    assert get_reply(es, names, "r1") is None
