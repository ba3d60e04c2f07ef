"""Each demo user's day in Debian's Chromium, driven by playwright-core, on one `ecoute dashboard` serving
the indexed sample data (and a local Mastodon instance that records the replies posted to it). Each walk
signs in once, reloads, follows a link in a new tab and does the role's own work; its screenshots are
written to docs/screenshots/ (a failing step's to test-artifacts/browser/).

The walks share the dashboard and its indices (one server: minutes saved), and run in this file's order:
the admin's first, on the sample as collected; each checks what it did itself (its mentions, its alert, its
account)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from core.documents import Label
from dashboard.text import STRINGS
from ecoute.config import load_settings
from ecoute.engine import Engine
from index.accounts import account_activity
from index.alerts import get_alert
from index.client import EmbeddedServer, IndexNames, free_port
from index.crm import records_of_customer
from index.customers import all_customers, customers_of_owner, get_customer
from index.mention_search import MentionFilter, search_mentions
from index.mentions import get_mention, get_mentions_versioned, index_mentions
from index.replies import replies_to
from index.schema import drop_indices, ensure_indices
from index.triage import update_triage
from tests.collectors.conftest import ScriptedServer
from tests.conftest import write_config
from tests.dashboard.test_no_english import BILINGUAL, ENGLISH, ENGLISH_NUMBER, ENGLISH_ONLY
from tests.factories import make_mention
from tests.replies.conftest import TOKEN, MastodonInstance

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
ADMIN, PASSWORD = "admin@lumio.example", "lumio-demo"  # demo users of the shipped config.yaml
CM, MARKETER, SALES = "community@lumio.example", "marketing@lumio.example", "sarah.whitfield@lumio.example"
TOKEN_ENV = "ECOUTE_WALK_MASTODON_TOKEN"
STATUS_ID = "113650000000000077"
REPLY = "@julie@mastodon.example Bonjour Julie, un technicien vous appelle ce soir."


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`ecoute dashboard` exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")


@dataclass
class Served:
    """The dashboard every walk opens, what it reads and the platform replies go to."""

    url: str
    es: Elasticsearch
    names: IndexNames
    mastodon: MastodonInstance
    live_seconds: int


@pytest.fixture(scope="module")
def served(
    es_server: EmbeddedServer, es: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The sample data collected and enriched into indices of this module's own, served by `ecoute
    dashboard` with the shipped config.yaml, its Mastodon source pointed at a local instance."""
    tmp_path = tmp_path_factory.mktemp("walks")
    names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    ensure_indices(es, names)
    platform = ScriptedServer()
    platform.start()
    mastodon = MastodonInstance(platform)
    port = free_port()
    config = write_config(tmp_path, es_server.url, names.prefix)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["dashboard"].update(host="127.0.0.1", port=port)
    for source in data["sources"]:
        if source["name"] == "lumio-mastodon":
            source.update(instance=mastodon.url, local=True, token_env=TOKEN_ENV)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    engine.import_customers()
    engine.collect("sample")
    log = (tmp_path / "dashboard.log").open("w")
    # Its own process group: `ecoute dashboard` runs Streamlit as a child, and both must stop.
    process = subprocess.Popen(
        [sys.executable, "-m", "ecoute", "dashboard", "--config", str(config)],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "ECOUTE_CONFIG"}, TOKEN_ENV: TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield Served(url, es, names, mastodon, data["dashboard"]["live_refresh_seconds"])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
        platform.stop()
        drop_indices(es, names)


@dataclass
class Walk:
    """A walk's process: the lines it printed, and a way to answer its questions."""

    process: subprocess.Popen
    said: list[str]

    def lines(self) -> Iterator[str]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.said.append(line)
            yield line.strip()

    def answer(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def finish(self) -> None:
        for _ in self.lines():
            pass
        assert self.process.wait(timeout=300) == 0, "".join(self.said)

    def printed(self, label: str) -> object:
        """The JSON a walk printed after `label: `."""
        (found,) = [line[len(label) + 2 :] for line in self.said if line.startswith(f"{label}: ")]
        return json.loads(found)


def walk(script: str, served: Served, artifacts_dir: Path, *args: str) -> Walk:
    node, chromium = shutil.which("node"), shutil.which("chromium") or "/usr/bin/chromium"
    assert node and Path(chromium).exists(), "run `make install-browser` (Debian's chromium and npm ci)"
    assert (ROOT / "node_modules" / "playwright-core").is_dir(), "run `npm ci` (make install-browser)"
    failures = artifacts_dir / "browser"
    process = subprocess.Popen(
        [node, str(ROOT / "tests" / "browser" / script), served.url, str(SHOTS), str(failures), *args],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM": chromium},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Walk(process, [])


def assert_shot(names: tuple[str, ...], since: float) -> None:
    for name in names:
        path = SHOTS / f"{name}.png"
        assert path.stat().st_mtime >= since and path.stat().st_size > 10_000, name


def test_the_admin_day_in_chromium(served: Served, artifacts_dir: Path):
    es, names = served.es, served.names
    started = time.time()
    newest = search_mentions(es, names, MentionFilter(), size=1).hits[0].mention
    linked = search_mentions(es, names, MentionFilter(customers_only=True), size=1).hits[0].mention
    far = search_mentions(es, names, MentionFilter(), size=60).hits[-1].mention  # beyond the first page
    admin = walk("admin.mjs", served, artifacts_dir, ADMIN, PASSWORD, linked.customer_id or "", far.id)
    given = None
    for line in admin.lines():
        if line == "ready for a new mention":
            late = make_mention(
                "collected-while-open",
                text="Lumio, arrivée pendant que la boîte était ouverte.",
                # Written just before the newest (inside the Inbox's 7 days): "newest" stays the same.
                created_at=newest.created_at - timedelta(minutes=1),
                collected_at=datetime.now(UTC),
            )
            index_mentions(es, names, [late])
            given = search_mentions(es, names, MentionFilter(), size=2).hits[1].mention  # not the newest
            doc = get_mentions_versioned(es, names, [given.id])[given.id]  # in its own period index
            update_triage(es, names, given.id, {"assignee": ADMIN}, CM, doc.seq_no, doc.primary_term)
            admin.answer("collected")
    admin.finish()
    triaged = get_mention(es, names, newest.id)
    assert triaged.status == "answered"
    assert [(c.by, c.field, c.old, c.new) for c in triaged.history] == [(ADMIN, "status", "new", "answered")]
    assert given is not None and get_mention(es, names, given.id).triage.assignee == ADMIN
    shots = ("sign-in", "inbox", "deep-link", "inbox-live", "inbox-triaged", "customer", "alerts")
    assert_shot((*shots, "admin", "review"), started)


def test_the_community_manager_day_in_chromium(served: Served, artifacts_dir: Path):
    """Keyboard triage, a mention shown live, a reply that reaches the platform, the mention's history and
    the customer's CRM record."""
    es, names = served.es, served.names
    started = time.time()
    customer = next(c for c in all_customers(es, names) if c.full_name)
    toot = make_mention(
        STATUS_ID,
        source="lumio-mastodon",
        author={"handle": "julie@mastodon.example", "display_name": "Julie"},
        text="Ma box Lumio clignote rouge depuis ce matin, toujours pas de connexion.",
        url=f"{served.mastodon.url}/@julie/{STATUS_ID}",
        raw={"id": STATUS_ID, "visibility": "public"},  # the status as collected: its reply is as public
        customer_id=customer.customer_id,
        sentiment=Label(label="negative", confidence=0.9),
        intent=Label(label="complaint", confidence=0.9),
    )
    manager = walk("community_manager.mjs", served, artifacts_dir, CM, PASSWORD, str(served.live_seconds))
    for line in manager.lines():
        if line == "ready for a new mention":
            now = datetime.now(UTC)
            index_mentions(es, names, [toot.model_copy(update={"created_at": now, "collected_at": now})])
            manager.answer(toot.id)
    manager.finish()

    (shown_after,) = [line for line in manager.said if line.startswith("new mention shown after")]
    seconds = float(re.findall(r"[\d.]+", shown_after)[0])
    print(shown_after)  # shown with -rP: how live the Inbox was this time
    # A new mention is in the open Inbox within 10 s: the shipped refresh period (5 s), the index's own
    # refresh (1 s) and the time to draw.
    assert served.live_seconds == 5
    assert seconds <= 10
    triaged = manager.printed("triaged")
    assigned, closed = get_mention(es, names, triaged["assigned"]), get_mention(es, names, triaged["closed"])
    assert assigned.triage.assignee == CM
    assert ("assignee", CM) in [(c.field, c.new) for c in assigned.history if c.by == CM]
    assert closed.status == "closed"
    assert ("status", "closed") in [(c.field, c.new) for c in closed.history if c.by == CM]

    (posted,) = served.mastodon.posted  # typed with j, a, c, o in it: written, never taken as keys
    assert (posted.in_reply_to, posted.text) == (STATUS_ID, REPLY)
    (reply,) = replies_to(es, names, [toot.id])[toot.id]
    assert reply.status == "sent" and reply.drafted_by == CM
    answered = get_mention(es, names, toot.id)
    assert ("reply", reply.platform_url) in [(c.field, c.new) for c in answered.history if c.by == CM]
    known = get_customer(es, names, customer.customer_id)
    assert known is not None
    logged = [i for i in records_of_customer(es, names, known).interactions if i.title == REPLY]
    assert len(logged) == 1, "the reply is not on the customer's CRM record"
    assert_shot(("cm-shortcuts", "cm-keyboard-triage", "cm-reply"), started)


def english_fragments() -> list[str]:
    """Pieces of the English interface a French page must not show: every run of two words or more of an
    English string (between its placeholders and punctuation) that no French string holds, and the
    English-only labels of one word ("Day")."""
    french = " ".join(
        form
        for text in STRINGS["fr"].values()
        for form in ([text] if isinstance(text, str) else text.values())
    )
    found: set[str] = set()
    for text in STRINGS["en"].values():
        for form in [text] if isinstance(text, str) else text.values():
            if re.fullmatch(r"[A-Z][a-z]+", form) and form.lower() in ENGLISH:
                found.add(form)
            for literal, *_ in string.Formatter().parse(form):
                for piece in re.split(r"[^\w' -]+|\s-\s", literal):
                    piece = piece.strip(" '-")
                    if len(piece.split()) >= 2 and piece not in french:
                        found.add(piece)
    return sorted(found, key=len, reverse=True)


def english_shown(text: str) -> list[str]:
    """What in a French page's text is English: pieces of the English interface, English-only words,
    numbers written the English way (0.5, 1,234, 20%). The language picker's label is in both."""
    text = text.replace(BILINGUAL, " ")
    found = [f for f in english_fragments() if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text)]
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    return found + sorted(words & ENGLISH_ONLY) + ENGLISH_NUMBER.findall(text)


def test_the_marketer_day_in_chromium(served: Served, artifacts_dir: Path):
    """A spike explained and clicked through to its posts, then Insights in French with no English."""
    started = time.time()
    marketer = walk("marketer.mjs", served, artifacts_dir, MARKETER, PASSWORD)
    marketer.finish()
    spike = marketer.printed("spike posts")
    assert isinstance(spike, dict) and spike["shown"] > 0
    page = marketer.printed("page")
    assert isinstance(page, str) and "Pic le " in page
    assert english_shown(page) == []
    assert_shot(("marketer-insights-spike", "marketer-spike-posts", "marketer-insights-fr"), started)


def test_the_sales_day_in_chromium(served: Served, artifacts_dir: Path):
    """My accounts, the most recently mentioned opened with a click, and one of my alerts acknowledged."""
    es, names = served.es, served.names
    started = time.time()
    sales = walk("sales.mjs", served, artifacts_dir, SALES, PASSWORD)
    sales.finish()
    mine = customers_of_owner(es, names, SALES)
    activity = account_activity(es, names, [c.customer_id for c in mine], now=datetime.now(UTC))
    never = datetime.min.replace(tzinfo=UTC)
    latest = max(mine, key=lambda c: activity[c.customer_id].last_mention_at or never)
    opened = sales.printed("account")
    assert isinstance(opened, dict) and opened["customer"] == latest.customer_id
    alert_id = sales.printed("alert")
    assert isinstance(alert_id, dict)
    alert = get_alert(es, names, alert_id["alert"])
    assert alert is not None and SALES in alert.recipients
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", SALES)
    assert_shot(("sales-accounts", "sales-account", "sales-alert"), started)
