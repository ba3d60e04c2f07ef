"""The read API and /metrics, served by uvicorn on loopback against the stand-in, read with httpx."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from api.server import ApiServer
from core.documents import Alert
from core.errors import ConfigError
from ecoute.config import Settings, load_settings
from index.alerts import ALERTS, create_alerts
from index.client import EmbeddedServer, IndexNames, free_port
from index.crm import mirror_customers
from index.mentions import index_mentions, refresh_mentions
from tests.conftest import write_config
from tests.factories import make_customer, make_mention
from tests.index.test_crm_scope import MINE, shared_account

KEYS = {
    "ECOUTE_API_KEY_REPORTING": "r" * 40,
    "ECOUTE_API_KEY_CLAIRE": "c" * 40,
    "ECOUTE_API_KEY_PROM": "p" * 40,
}
API = {
    "keys": [
        {"name": "reporting", "role": "marketer", "key_env": "ECOUTE_API_KEY_REPORTING"},
        {
            "name": "claire",
            "role": "sales",
            "key_env": "ECOUTE_API_KEY_CLAIRE",
            "owner_email": "claire.dubois@lumio.example",
        },
        {"name": "prometheus", "role": "metrics", "key_env": "ECOUTE_API_KEY_PROM"},
    ]
}
NOW = datetime.now(UTC).replace(microsecond=0)


def bearer(env: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[env]}"}


MARKETER, SALES, METRICS = (
    bearer("ECOUTE_API_KEY_REPORTING"),
    bearer("ECOUTE_API_KEY_CLAIRE"),
    bearer("ECOUTE_API_KEY_PROM"),
)


def api_settings(tmp_path: Path, es_url: str, prefix: str, **api: object) -> Settings:
    return load_settings(write_config(tmp_path, es_url, prefix, api={**API, **api}))


class Running:
    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()
        self.client = httpx.Client(base_url=server.url, timeout=30)
        for _ in range(100):
            try:
                self.client.get("/healthz")
                break
            except httpx.TransportError:
                threading.Event().wait(0.05)

    def stop(self) -> None:
        self.client.close()
        self.server.shutdown()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def seeded(es: Elasticsearch, names: IndexNames) -> IndexNames:
    mirror_customers(
        es,
        names,
        [
            make_customer("C-OWN", full_name="Julie Martin", owner_email="claire.dubois@lumio.example"),
            make_customer("C-OTHER", full_name="Marc Petit", owner_email="paul.leroy@lumio.example"),
        ],
    )
    index_mentions(
        es,
        names,
        [
            make_mention(
                "own",
                text="La fibre Lumio est coupée depuis hier",
                customer_id="C-OWN",
                created_at=NOW - timedelta(days=1),
                raw={"secret_platform_field": "x"},
            ),
            make_mention(
                "other",
                text="Lumio me facture deux fois",
                customer_id="C-OTHER",
                created_at=NOW - timedelta(days=2),
            ),
            make_mention(
                "public", text="Quelqu'un a testé la box Lumio ?", created_at=NOW - timedelta(days=20)
            ),
        ],
    )
    refresh_mentions(es, names)
    create_alerts(
        es,
        names,
        [
            Alert(
                id=f"a-{cid}",
                rule="negative-customer",
                mention_id=f"m-{cid}",
                customer_id=cid,
                recipients=["claire.dubois@lumio.example"],
                created_at=NOW,
                summary=f"negative post by {cid}",
            )
            for cid in ("C-OWN", "C-OTHER")
        ],
    )
    es.indices.refresh(index=ALERTS.alias(names))
    return names


@pytest.fixture
def api(tmp_path: Path, es_server: EmbeddedServer, seeded: IndexNames, keys: None) -> Iterator[httpx.Client]:
    running = Running(ApiServer(api_settings(tmp_path, es_server.url, seeded.prefix), port=0))
    yield running.client
    running.stop()


def test_every_route_but_healthz_needs_a_known_key(api: httpx.Client) -> None:
    assert api.get("/healthz").status_code == 200
    for path in ("/v1/mentions", "/v1/customers/C-OWN", "/v1/alerts", "/metrics"):
        missing = api.get(path)
        assert missing.status_code == 401, path
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = api.get(path, headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 401 and wrong.json() == {"error": "unknown API key"}


def test_a_marketer_key_searches_mentions_with_filters_and_dates(api: httpx.Client) -> None:
    everything = api.get("/v1/mentions", headers=MARKETER).json()
    assert everything["total"] == 3
    assert [m["native_id"] for m in everything["mentions"]] == ["own", "other", "public"]  # newest first
    assert all("raw" not in m for m in everything["mentions"])  # the platform payload stays inside

    found = api.get("/v1/mentions", params={"q": "fibre"}, headers=MARKETER).json()
    assert [m["native_id"] for m in found["mentions"]] == ["own"]
    assert any("«" in h for h in found["mentions"][0]["highlights"])

    week = api.get("/v1/mentions", params={"since": "7d"}, headers=MARKETER).json()
    assert {m["native_id"] for m in week["mentions"]} == {"own", "other"}
    day = (NOW - timedelta(days=2)).date().isoformat()
    until = api.get("/v1/mentions", params={"until": day}, headers=MARKETER).json()
    assert [m["native_id"] for m in until["mentions"]] == ["public"]

    linked = api.get("/v1/mentions", params={"customers_only": "true", "limit": 1}, headers=MARKETER).json()
    assert linked["total"] == 2 and len(linked["mentions"]) == 1
    second = api.get(
        "/v1/mentions", params={"customers_only": "true", "limit": 1, "offset": 1}, headers=MARKETER
    ).json()
    assert [m["native_id"] for m in second["mentions"]] == ["other"]


def test_bad_parameters_get_one_precise_line(api: httpx.Client) -> None:
    cases = {
        (("sort", "x"),): "unknown parameter 'sort'",
        (("since", "yesterday"),): "since must be an ISO 8601 date or time",
        (("limit", "5000"),): "limit must be between 1 and 200",
        (("limit", "ten"),): "limit must be a whole number",
        (("order", "random"),): "order must be one of",
        (("customers_only", "maybe"),): "customers_only must be true or false",
        (("q", "a b c d e f g h i j"),): "search too complex",
        (("since", "0001-01-01T00:00:00+01:00"),): "since is out of range",  # was a 500
        (("until", "9999-12-31T23:59:59-01:00"),): "until is out of range",
    }
    for params, message in cases.items():
        answer = api.get("/v1/mentions", params=list(params), headers=MARKETER)
        assert answer.status_code == 400, params
        assert answer.json()["error"].startswith(message), answer.json()
    assert api.post("/v1/mentions", headers=MARKETER).status_code == 405
    assert api.get("/v1/nothing", headers=MARKETER).status_code == 404


def test_a_sales_key_reads_only_its_owners_customers_mentions_and_alerts(api: httpx.Client) -> None:
    assert api.get("/v1/mentions", headers=SALES).status_code == 403  # the inbox is not a sales page

    own = api.get("/v1/customers/C-OWN", headers=SALES)
    assert own.status_code == 200
    body = own.json()
    assert body["customer"]["full_name"] == "Julie Martin"
    assert [m["native_id"] for m in body["mentions"]["items"]] == ["own"]
    assert [a["customer_id"] for a in body["alerts"]] == ["C-OWN"]

    assert api.get("/v1/customers/C-OTHER", headers=SALES).status_code == 404
    listed = api.get("/v1/customers", headers=SALES).json()["customers"]
    assert [c["customer_id"] for c in listed] == ["C-OWN"]
    alerts = api.get("/v1/alerts", headers=SALES).json()["alerts"]
    assert [a["customer_id"] for a in alerts] == ["C-OWN"]

    mentions = {m["native_id"]: m["id"] for m in api.get("/v1/mentions", headers=MARKETER).json()["mentions"]}
    assert api.get(f"/v1/mentions/{mentions['own']}", headers=SALES).status_code == 200
    assert api.get(f"/v1/mentions/{mentions['other']}", headers=SALES).status_code == 404
    assert api.get(f"/v1/mentions/{mentions['public']}", headers=SALES).status_code == 200  # public post

    # a marketer reads every customer and alert
    assert api.get("/v1/customers/C-OTHER", headers=MARKETER).status_code == 200
    assert len(api.get("/v1/alerts", headers=MARKETER).json()["alerts"]) == 2


def test_a_sales_key_finds_no_other_owners_customer_by_search_alert_filter_or_link_proposal(
    api: httpx.Client, es: Elasticsearch, names: IndexNames
) -> None:
    for q in ("Marc Petit", "c-other@client.example"):
        assert api.get("/v1/customers", params={"q": q}, headers=SALES).json()["customers"] == []
    assert api.get("/v1/alerts", params={"customer": "C-OTHER"}, headers=SALES).json()["alerts"] == []

    proposal = {
        "customer_id": "C-OTHER",
        "method": "fuzzy_name",
        "confidence": 0.6,
        "reason": "name Marc Petit and company Boulangerie Martin: Marc Petit, Boulangerie Martin",
    }
    proposed = make_mention("proposed", text="Marc ici, ma box Lumio est morte", link_proposal=proposal)
    index_mentions(es, names, [proposed])
    refresh_mentions(es, names)
    seen = api.get(f"/v1/mentions/{proposed.id}", headers=SALES)  # a public post: readable
    assert seen.status_code == 200 and seen.json()["text"] == proposed.text
    assert "C-OTHER" not in seen.text and "Petit" not in seen.text  # but not whom it may be
    assert (
        api.get(f"/v1/mentions/{proposed.id}", headers=MARKETER).json()["link_proposal"]["customer_id"]
        == "C-OTHER"
    )


def test_a_sales_keys_customer_360_leaves_out_a_colleagues_crm_records_and_counts_them(
    api: httpx.Client, es: Elasticsearch, names: IndexNames
) -> None:
    """Julie's account is Claire's, Marc's contact there is Paul's: Claire reads Julie's deal and ticket
    and the account's, not Marc's (before: the whole account's)."""
    claire = "claire.dubois@lumio.example"
    shared_account(es, names, mine=claire, theirs="paul.leroy@lumio.example", account_owner=claire)

    crm = api.get(f"/v1/customers/{MINE}", headers=SALES).json()["crm"]

    assert {o["title"] for o in crm["opportunities"]} == {"Fibre pro pour Julie", "Contrat cadre du compte"}
    assert {i["title"] for i in crm["interactions"]} == {"Appel de Julie", "Visite du compte"}
    assert crm["account"]["title"] == "Boulangerie Martin" and crm["withheld"] == 2
    whole = api.get(f"/v1/customers/{MINE}", headers=MARKETER).json()["crm"]
    assert len(whole["opportunities"]) == len(whole["interactions"]) == 3 and whole["withheld"] == 0


def test_metrics_for_prometheus(api: httpx.Client) -> None:
    assert api.get("/metrics", headers=MARKETER).status_code == 403
    assert api.get("/v1/mentions", headers=METRICS).status_code == 403
    answer = api.get("/metrics", headers=METRICS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in answer.text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples["ecoute_up"] == 1
    assert samples["ecoute_mentions"] == 3
    assert samples["ecoute_alerts_unacknowledged"] == 2
    assert samples["ecoute_spool_pending"] == 0 and samples["ecoute_dead_letters"] == 0
    assert samples['ecoute_rescoring_backlog{model="accurate"}'] == 3  # the factory's mentions have no model
    assert 'ecoute_enrichment_lag_seconds{quantile="0.95"}' in samples
    # every configured source has exactly one state
    states = [k for k, v in samples.items() if k.startswith("ecoute_source_state{") and v == 1]
    assert states and all('state="never_ran"' in k or 'state="off"' in k for k in states)
    for line in answer.text.splitlines():  # the text format: HELP and TYPE before each metric's samples
        if line.startswith("# TYPE"):
            assert line.split()[3] in {"gauge", "counter"}


def test_an_index_away_is_503_and_metrics_say_down(tmp_path: Path, names: IndexNames, keys: None) -> None:
    settings = api_settings(tmp_path, f"http://127.0.0.1:{free_port()}", names.prefix, request_timeout=2)
    running = Running(ApiServer(settings, port=0))
    try:
        answer = running.client.get("/v1/mentions", headers=MARKETER)
        assert answer.status_code == 503 and "unreachable" in answer.json()["error"]
        metrics = running.client.get("/metrics", headers=METRICS)
        assert metrics.status_code == 200
        assert "\necoute_up 0\n" in metrics.text and "ecoute_mentions " not in metrics.text
    finally:
        running.stop()


def test_keys_come_from_the_environment_and_are_never_echoed(
    tmp_path: Path, es_server: EmbeddedServer, names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOUTE_API_KEY_REPORTING", "short-key-123")
    settings = api_settings(tmp_path, es_server.url, names.prefix)
    with pytest.raises(ConfigError) as refused:
        ApiServer(settings, port=0)
    message = str(refused.value)
    assert "ECOUTE_API_KEY_REPORTING holds under 32 characters" in message
    assert "ECOUTE_API_KEY_CLAIRE is not set" in message
    assert "short-key-123" not in message


def test_a_public_address_needs_tls_or_an_explicit_choice(
    tmp_path: Path, es_server: EmbeddedServer, names: IndexNames, keys: None
) -> None:
    settings = api_settings(tmp_path, es_server.url, names.prefix, host="0.0.0.0")
    with pytest.raises(ConfigError, match="not a loopback address and no TLS"):
        ApiServer(settings, port=0)


def test_a_sales_key_without_an_owner_is_a_config_error(tmp_path: Path, es_server: EmbeddedServer) -> None:
    bad = {"keys": [{"name": "s", "role": "sales", "key_env": "ECOUTE_API_KEY_S"}]}
    with pytest.raises(ConfigError, match="a sales key needs owner_email"):
        load_settings(write_config(tmp_path, es_server.url, "x", api=bad))


def test_ecoute_api_serve_answers_and_stops_on_sigterm(
    tmp_path: Path, es_server: EmbeddedServer, seeded: IndexNames
) -> None:
    config = write_config(tmp_path, es_server.url, seeded.prefix, api=API)
    port = free_port()
    env = {**os.environ, "ECOUTE_API_KEY_REPORTING": KEYS["ECOUTE_API_KEY_REPORTING"]}
    process = subprocess.Popen(
        [sys.executable, "-m", "ecoute", "api", "serve", "--config", str(config), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(200):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/mentions", headers=MARKETER, timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200 and answer.json()["total"] == 3
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"API on http://127.0.0.1:{port}" in out
    # the two keys whose variables are unset are named, once each; no key value is printed anywhere
    assert "ECOUTE_API_KEY_CLAIRE is not set" in err and "ECOUTE_API_KEY_PROM is not set" in err
    assert KEYS["ECOUTE_API_KEY_REPORTING"] not in out + err
