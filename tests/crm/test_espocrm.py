"""The EspoCRM connector against a local server that answers like EspoCRM's REST API (/api/v1)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from elasticsearch import Elasticsearch

from crm.base import CrmSourceError
from crm.mirror import mirror_source
from crm.sources import EspoCrmSourceConfig
from index.client import IndexNames
from index.crm import records_of_customer
from index.customers import all_customers, get_customer
from tests.conftest import FIXTURES

API_KEY = "7f3c2a9e41b05d8e"
ENTITIES = ("Account", "Contact", "Opportunity", "Case", "User")


class EspoReplay:
    """Records from tests/fixtures/espocrm/*.json served with EspoCRM's paging, order and `after` filter."""

    def __init__(self) -> None:
        self.data = {
            e: json.loads((FIXTURES / "espocrm" / f"{e}.json").read_text())["list"] for e in ENTITIES
        }
        self.requests: list[tuple[str, dict[str, str]]] = []

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, object]:
        parts = path.removeprefix("/api/v1/").split("/")
        if parts[0] not in self.data:
            return 404, {"message": "Not Found"}
        records = self.data[parts[0]]
        if len(parts) == 2:
            found = [r for r in records if r["id"] == parts[1]]
            return (200, found[0]) if found else (404, {"message": "Not Found"})
        if query.get("where[0][type]") == "after":
            attribute, value = query["where[0][attribute]"], query["where[0][value]"]
            records = [r for r in records if (r.get(attribute) or "") > value]
        if "orderBy" in query:
            records = sorted(
                records, key=lambda r: r.get(query["orderBy"]) or "", reverse=query.get("order") == "desc"
            )
        offset, size = int(query.get("offset", 0)), int(query.get("maxSize", 20))
        page = records[offset : offset + size]
        if "select" in query:
            keep = query["select"].split(",")
            page = [{k: r.get(k) for k in ["id", *keep]} for r in page]
        return 200, {"total": len(records), "list": page}


@pytest.fixture
def espo() -> Iterator[tuple[str, EspoReplay]]:
    replay = EspoReplay()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            replay.requests.append((url.path, query))
            if self.headers.get("X-Api-Key") != API_KEY:
                status, body = 401, None
            else:
                status, body = replay.answer(url.path, query)
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", replay
    server.shutdown()


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
