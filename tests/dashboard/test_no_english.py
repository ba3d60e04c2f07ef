"""No English on a French page: every page of PAGES, opened in French by someone allowed to see it, on an
index holding a busy day (every sentiment and intent, linked customers with their CRM records, alerts of
several rules and statuses, a spike, saved searches, triage history, link reviews, team queues).

Everything the page shows is collected from Streamlit's element tree: headings, text, captions, metrics,
widget labels, help texts, placeholders and options, buttons, tables (their columns and cells), chart
titles, axes and legends, tabs, expanders, alerts and toasts. What came from the data (posts, names,
addresses, CRM values, the operator's own names in config.yaml) is known by construction and taken out;
what remains is the interface's own text, and it must hold no English word and no number written the
English way (1,234 or 0.82 or 25%).
"""

from __future__ import annotations

import json
import re
import string
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from alerts.delivery import Alerter
from alerts.wording import WORDS
from core.documents import (
    Delivery,
    Engagement,
    Entity,
    Label,
    Mention,
    RawPost,
    SavedSearch,
    SourceState,
    StoredRule,
    Thread,
    Triage,
    TriageChange,
    document_id,
)
from crm.mirror import mirror_source
from dashboard.pages import PAGES
from dashboard.text import STRINGS
from ecoute.config import Intent, Settings, load_settings
from index.alerts import acknowledge_alert, alerts_for, create_deliveries, save_rule
from index.catalog import document_types
from index.client import EmbeddedServer, IndexNames
from index.crm import CRM_RECORDS
from index.customers import CUSTOMERS, all_customers
from index.mentions import index_mentions
from index.reviews import decide_review, list_reviews, queue_link_reviews
from index.searches import save_search
from index.state import STATE, put_state
from nlp.language import normalise
from nlp.linking import CustomerDirectory, resolve_customer
from tests.conftest import write_config
from tests.crm.crmdb import MAPPING as CRM_TABLES
from tests.dashboard.helpers import APP, DEMO_PASSWORD
from tests.test_routing import ROUTING

# What a French page may show: the interface strings and the alerts' own wording (alerts/locales).
FRENCH = STRINGS["fr"] | WORDS["fr"].strings
ENGLISH = STRINGS["en"] | WORDS["en"].strings
ADMIN, CM, SALES = "admin@lumio.example", "community@lumio.example", "sarah.whitfield@lumio.example"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


# ---- the busy day ---------------------------------------------------------------------------------------

ACCOUNTS = """\
acct_no,name,tier,arr,rep_name,rep_email,modified_at
A1,Boulangerie Martin,tpe,4800,Claire Dubois,claire.dubois@lumio.example,2026-01-05T09:00:00+00:00
A2,Garage Petit,grand compte,91000,,,2026-01-05T09:00:00+00:00
A3,Atelier Roux,pme,15000,Sarah Whitfield,sarah.whitfield@lumio.example,2026-01-05T09:00:00+00:00
"""
PEOPLE = """\
id,acct_no,given_name,family_name,email_address,mobile,mastodon_handle,bsky,lang,modified_at
1,A1,Julie,Martin,julie.martin@boulangerie.example,06 12 34 56 78,@julie_m@piaille.example,,fr,2026-01-05
2,A2,Marc,Petit,marc@garage.example,12,,marc petit !,fr,2026-01-05
3,A1,Paul,Martin,paul@boulangerie.example,,,,fr,2026-01-05
4,A3,Amélie,Roux,amelie@roux,07 11 22 33 44,@amelie@piaille.example,,fr,2026-01-05
5,A3,Zoé,Roux,julie.martin@boulangerie.example,,,,fr,2026-01-05
,A3,Sans,Identifiant,sans.id@roux.example,,,,fr,2026-01-05
"""
# Julie's handle links her posts; Marc's phone and Bluesky handle are wrong and his account has no owner;
# Amélie's address is invalid; Zoé shares Julie's address; the last row has no id and is rejected.
DEALS = """\
deal_id,acct_no,title,stage,amount,close_on,modified_at
D1,A1,Passage à la fibre pro,Proposition envoyée,1200,2027-03-01T00:00:00+00:00,2026-01-05T09:00:00+00:00
D2,A3,Forfait mobile pour la flotte,Négociation,8000,2027-02-01T00:00:00+00:00,2026-01-05T09:00:00+00:00
"""
TICKETS = """\
ticket_id,person_id,subject,state,opened_at,modified_at
T1,1,La box redémarre chaque nuit,ouvert,{two_days_ago},2026-01-05T09:00:00+00:00
T2,1,Copie de facture,résolu,{month_ago},2026-01-05T09:00:00+00:00
T3,4,Débit faible à l'atelier,ouvert,{two_days_ago},2026-01-05T09:00:00+00:00
"""
# The same CRM as the SQL connector's tests (tests/crm/crmdb.py), exported as one CSV file per table.
CRM_MAPPING = {
    part: {
        "table": f"{table['table']}.csv",
        "columns": {field: column for field, column in table["columns"].items() if field != "deleted"},
    }
    for part, table in CRM_TABLES.items()
}
WEBHOOK = {"name": "canal-equipe", "url": "https://hooks.lumio.example/ecoute", "format": "slack"}
SOURCE_ERROR = "lumio-news: https://news.lumio.example/feed: HTTP 503"
DELIVERY_ERROR = "smtp.lumio.example: 550 5.1.1 <claire.dubois@lumio.example>"
SAVED_SEARCH = "Pannes des clients pro"
TAGS = ["facturation", "panne"]
NOTE = "Rappeler la cliente avant midi."

POSTS = {
    # native id: (text, sentiment, intent, author handle, display name, followers)
    "panne": ("Ma box Lumio redémarre encore toutes les nuits, ça suffit !", "negative", "complaint",
              "julie_m@piaille.example", "Julie M.", 8200),
    "merci": ("Merci Lumio, la fibre est enfin installée à l'atelier.", "positive", "praise",
              "amelie@piaille.example", "Amélie R.", 300),
    "question": ("Quelqu'un sait changer le mot de passe wifi de la box Lumio ?", "neutral", "question",
                 "curieux@mastodon.example", "Curieux", 45),
    "depart": ("Je vais résilier Lumio et passer chez Zéphyr le mois prochain.", "negative", "churn_risk",
               "partant@mastodon.example", "Partant", 120),
    "achat": ("Je compte prendre l'offre fibre pro de Lumio pour la boulangerie.", "positive", "purchase",
              "paul.martin@mastodon.example", "Paul Martin", 80),
    "conseil": ("Vous me conseillez Lumio ou Zéphyr pour une petite entreprise ?", "neutral",
                "recommendation_request", "hesitant@mastodon.example", "Hésitant", 60),
    "promo": ("Gagnez une box Lumio gratuite, cliquez vite sur ce lien !", "neutral", "spam",
              "promo@mastodon.example", "Promo", 5),
    "autre": ("Lumio sponsorise le marathon de Lyon cette année.", "neutral", "other",
              "sportif@mastodon.example", "Sportif", 900),
    "reponse": ("Même souci chez moi depuis la mise à jour de Lumio.", "negative", "complaint",
                "voisin@mastodon.example", "Voisin", 70),
}  # fmt: skip
SPIKE_TEXTS = ["Coupure Lumio dans le quartier", "Plus de connexion Lumio depuis ce matin", "Lumio en panne"]
CALM_TEXT = "Lumio fonctionne, rien à signaler."
EARLIER_TEXT = "Bonjour, la box Lumio de l'atelier marche bien."


def mention_of(native_id: str, text: str, sentiment: str, intent: str, handle: str, name: str, followers: int,
               hours: float, **overrides) -> Mention:  # fmt: skip
    data = {
        "id": document_id("mastodon-lumio", native_id),
        "source": "mastodon-lumio",
        "platform": "mastodon",
        "native_id": native_id,
        "url": f"https://piaille.example/@x/{native_id}",
        "author": {"handle": handle, "display_name": name, "followers": followers},
        "text": text,
        "language": "fr",
        "created_at": ago(hours),
        "collected_at": ago(hours),
        "enriched_at": ago(hours),
        "thread": Thread(),
        "engagement": Engagement(likes=3, replies=1),
        "topics": ["Lumio"],
        "sentiment": Label(label=sentiment, confidence=0.86),
        "intent": Label(label=intent, confidence=0.77),
        "intents": [Label(label=intent, confidence=0.77), Label(label="question", confidence=0.41)],
        "model": "fast",
    } | overrides
    return Mention.model_validate(data)


def linked(mention: Mention, directory: CustomerDirectory) -> Mention:
    """The mention with the customer link (or proposal) Écoute's own linking finds for its author."""
    post = RawPost(
        source=mention.source,
        platform=mention.platform,
        native_id=mention.native_id,
        author=mention.author,
        text=mention.text,
        created_at=mention.created_at,
    )
    link, proposal = resolve_customer(post, normalise(mention.text), mention.entities, directory)
    return mention.model_copy(
        update={"link": link, "customer_id": link.customer_id if link else None, "link_proposal": proposal}
    )


def history(mention_hours: float) -> dict:
    start = ago(mention_hours)
    changes = [
        TriageChange(at=start, by="routing:complaints-to-support", field="team", new="support"),
        TriageChange(at=start + timedelta(minutes=20), by=CM, field="assignee", new=CM),
        TriageChange(at=start + timedelta(minutes=30), by=CM, field="status", old="new", new="in_progress"),
        TriageChange(at=start + timedelta(minutes=40), by=CM, field="tags", new=", ".join(TAGS)),
        TriageChange(at=start + timedelta(minutes=45), by=CM, field="note", new=NOTE),
        TriageChange(at=start + timedelta(hours=2), by=CM, field="status", old="in_progress", new="answered"),
    ]
    last = changes[-1].at
    triage = Triage(assignee=CM, team="support", tags=TAGS, note=NOTE, updated_by=CM, updated_at=last)
    return {"status": "answered", "triage": triage, "history": changes}


def busy_day(es: Elasticsearch, names: IndexNames, settings: Settings) -> None:
    """Customers and their CRM records, a day of mentions (triaged, linked, proposed, flagged, a spike),
    the alerts Écoute raises on them, deliveries, a saved search, link reviews and source health."""
    mirror_source(es, names, settings.crm.sources[0], settings.base_dir)
    directory = CustomerDirectory(all_customers(es, names))
    entities = [
        Entity(text="Lumio", label="brand"),
        Entity(text="Zéphyr", label="competitor"),
        Entity(text="Boulangerie Martin", label="organisation"),
        Entity(text="Lyon", label="place"),
        Entity(text="Julie", label="person"),
        Entity(text="Fibre Pro", label="product"),
        Entity(text="Marathon", label="other"),
    ]
    statuses = ["new", "answered", "in_progress", "closed", "new", "ignored", "ignored", "new", "new"]
    mentions = []
    for i, (native_id, post) in enumerate(POSTS.items()):
        hours = 3 + i * 5
        extra: dict = {"status": statuses[i], "entities": entities if i == 0 else entities[:2]}
        if native_id == "panne":
            extra |= history(hours) | {"flags": ["near_duplicate"], "model": "accurate"}
        if native_id == "question":
            extra |= {"triage": Triage(assignee=CM, team="community"), "status": "in_progress"}
        if native_id == "promo":
            extra |= {"flags": ["coordinated", "repeated_link"]}
        if native_id == "autre":
            extra |= {"flags": ["future_date"], "published_claimed": NOW + timedelta(days=40)}
        if native_id == "reponse":
            extra |= {"thread": Thread(parent_id="panne", root_id="panne"), "flags": ["undated"]}
        mentions.append(linked(mention_of(native_id, *post, hours=hours, **extra), directory))
    for day in range(2, 30):  # calm days, then a busy one: a spike on the chart
        for i in range(2):
            mentions.append(
                mention_of(f"calme-{day}-{i}", CALM_TEXT, "neutral", "other",
                           f"habitue{i}@mastodon.example", "Habitué", 10, hours=day * 24 + i)
            )  # fmt: skip
    for i in range(14):  # the last hour: a spike for the spike rule too
        mentions.append(
            mention_of(f"coupure-{i}", SPIKE_TEXTS[i % 3], "negative", "complaint",
                       f"voisin{i}@mastodon.example", "Voisin", 40 + i, hours=0.2 + i / 100,
                       hashtags=["pannelumio"])
        )  # fmt: skip
    index_mentions(es, names, mentions)
    queue_link_reviews(es, names, mentions)
    put_decided_review(es, names)

    alerter = Alerter(settings.alerts, es, names)
    alerter.handle(mentions, directory)
    alerter.check_spikes()
    found = alerts_for(es, names, recipients=None)
    assert {a.kind for a in found} == {"mention", "spike"}, [a.rule for a in found]
    acknowledge_alert(es, names, found[-1].id, CM, NOW)
    create_deliveries(
        es,
        names,
        [
            Delivery(id=f"d-{a.id}-{channel}", alert_id=a.id, recipient=recipient, channel=channel,
                     status=status, attempts=2, last_error=error, created_at=NOW, updated_at=NOW)
            for a in found
            for recipient, channel, status, error in (
                ("claire.dubois@lumio.example", "email", "failed", DELIVERY_ERROR),
                (CM, "webhook:canal-equipe", "sent", None),
            )
        ],
    )  # fmt: skip
    rule = {"name": "pannes-pro", "description": "Pannes chez les clients pro", "query": "panne OR coupure",
            "segments": ["pme"], "channels": ["email"], "recipients": [CM]}  # fmt: skip
    stored = StoredRule(id="pannes-pro", name="pannes-pro", rule=rule, updated_by=CM, updated_at=NOW)
    save_rule(es, names, stored)
    save_search(
        es,
        names,
        SavedSearch(
            id=document_id("saved-search", ADMIN, SAVED_SEARCH.casefold()),
            owner=ADMIN,
            name=SAVED_SEARCH,
            filters={"inbox_sentiment": ["negative"], "inbox_status": ["new"]},
            created_at=NOW,
        ),
    )
    ran = ago(1).isoformat()
    states = {
        "sample": {"last_run": ran, "last_success": ran, "items_last_run": 1342, "indexed_last_run": 12,
                   "updated_last_run": 3, "skipped_items_last_run": 0, "consecutive_failures": 0},
        "lumio-news": {"last_run": ran, "last_success": ago(30).isoformat(), "consecutive_failures": 4,
                       "last_error": SOURCE_ERROR},
    }  # fmt: skip
    for source, data in states.items():
        put_state(es, names, SourceState(id=f"health:{source}", kind="health", source=source, data=data,
                                         updated_at=NOW))  # fmt: skip


def put_decided_review(es: Elasticsearch, names: IndexNames) -> None:
    """A proposal confirmed earlier, so the page lists decisions beside the one still waiting."""
    directory = CustomerDirectory(all_customers(es, names))
    earlier = linked(
        mention_of("ancien", EARLIER_TEXT, "positive", "praise",
                   "zoe.r@mastodon.example", "Zoé Roux", 20, hours=50),
        directory,
    )  # fmt: skip
    index_mentions(es, names, [earlier])
    queue_link_reviews(es, names, [earlier])
    pending = [r for r in list_reviews(es, names, "pending") if r.author_handle == "zoe.r@mastodon.example"]
    for review in pending:
        decide_review(es, names, review.id, "confirmed", by=CM)


def data_strings(es: Elasticsearch, names: IndexNames, settings: Settings) -> list[str]:
    """Every text the busy day put in the index or config.yaml names, that the pages show as they are."""
    found: set[str] = set()
    for native_id, (text, *_rest, handle, name, _followers) in POSTS.items():
        found |= {text, handle, name, native_id}
    found |= {*SPIKE_TEXTS, CALM_TEXT, EARLIER_TEXT, "Habitué", "Voisin", "Zoé Roux", "pannelumio"}
    found |= {"Lumio", "Zéphyr", "Boulangerie Martin", "Lyon", "Julie", "Fibre Pro", "Marathon"}
    found |= {*TAGS, NOTE, SAVED_SEARCH, SOURCE_ERROR, DELIVERY_ERROR, "mastodon-lumio", "mastodon"}
    found |= {"pannes-pro", "Pannes chez les clients pro", "panne OR coupure"}
    # A CRM import's rejected rows are its diagnostics, kept in the words they were recorded in, as a
    # source's last error is (SOURCE_ERROR); they are not interface text.
    for hit in es.search(index=STATE.alias(names), query={"term": {"kind": "crm"}}, size=50)["hits"]["hits"]:
        found |= set(hit["_source"]["data"].get("rejected", []))
    for index in (
        CUSTOMERS.alias(names),
        CRM_RECORDS.alias(names),
    ):  # what the CRM holds, but not Écoute's findings about it
        for hit in es.search(index=index, size=500)["hits"]["hits"]:
            found |= set(_strings({k: v for k, v in hit["_source"].items() if k != "quality"}))
    for user in settings.auth.users:
        found |= {user.email, user.name}
    for source in settings.sources:
        found |= {source.name, source.type, getattr(source, "platform", None) or ""}
    for rule in settings.alerts.rules:  # the operator's own rules; the built-in ones are Écoute's words
        found |= {rule.name, rule.description, rule.query}
    for rule in settings.routing.rules:
        found |= {rule.name}
    found |= set(settings.routing.teams) | {settings.brand.name, *settings.brand.competitors}
    found |= {WEBHOOK["name"], f"webhook:{WEBHOOK['name']}", settings.timezone, names.prefix}
    found |= {document.alias(names) for document in document_types()}  # index names
    found |= {rule.name for rule in settings.alerts.effective_rules([])}  # rule names are identifiers
    info = es.info()
    found |= {str(info["version"]["number"]), str(info.get("tagline", ""))}
    return sorted((s for s in found if s and s.strip()), key=len, reverse=True)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ---- what a page shows ---------------------------------------------------------------------------------

NOT_SHOWN = frozenset(
    {"id", "form_id", "key", "url", "icon", "page", "page_script_hash", "spec", "data", "arrow_data",
     "vega_lite_chart", "default", "format", "type", "use_container_width", "element_hash", "block_id",
     "autocomplete", "query_string", "dataframe", "column_order", "selection_mode", "theme"}
)  # fmt: skip
"""Proto fields that are not read by a person: ids, addresses, icons, serialised data (read apart)."""


def proto_strings(message) -> Iterator[str]:
    """Every string field of an element's proto, nested messages included, but those in NOT_SHOWN."""
    for descriptor, value in message.ListFields():
        if descriptor.name in NOT_SHOWN:
            continue
        items = value if descriptor.is_repeated else [value]
        for item in items:
            if descriptor.type == descriptor.TYPE_MESSAGE:
                yield from proto_strings(item)
            elif descriptor.type == descriptor.TYPE_STRING:
                yield SCRIPT.sub(" ", item)  # a script in the page (cookie, keyboard) is run, not read


SCRIPT = re.compile(r"<script>.*?</script>", re.DOTALL)


def chart_strings(proto) -> Iterator[str]:
    """A chart's titles, axis titles and tooltip titles, and the values its legend and axes show."""
    spec = json.loads(proto.spec) if proto.spec else {}
    shown_fields: set[str] = set()

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str | list):
                    yield from ([value] if isinstance(value, str) else value)
                elif key in ("color", "x", "y", "column", "row") and isinstance(value, dict):
                    if value.get("field") and value.get("type") in ("nominal", "ordinal"):
                        shown_fields.add(value["field"])
                    if "title" not in value and value.get("field"):
                        yield value["field"]  # no title: the field's name is the title
                    yield from walk(value)
                elif key == "tooltip":
                    for tip in value if isinstance(value, list) else [value]:
                        if isinstance(tip, dict):
                            yield tip.get("title") or tip.get("field", "")
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(spec)
    for dataset in [*proto.datasets, *([proto.data] if proto.HasField("data") else [])]:
        raw = dataset.data.data if hasattr(dataset, "data") and hasattr(dataset.data, "data") else b""
        if not raw:
            continue
        frame = pa.ipc.open_stream(raw).read_all().to_pandas()
        for column in shown_fields & set(frame.columns):
            yield from (str(v) for v in frame[column].dropna().unique())


def page_strings(at: AppTest) -> list[str]:
    """Every string a person can read on the page as it stands, in tree order."""
    found: list[str] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = getattr(node, "type", "")
        if kind in ("arrow_vega_lite_chart", "vega_lite_chart") or hasattr(proto, "spec"):
            found += chart_strings(proto)
        elif kind in ("arrow_data_frame", "dataframe", "table"):
            frame = node.value
            found += [str(c) for c in frame.columns]
            found += [str(v) for c in frame.columns for v in frame[c].dropna().unique() if isinstance(v, str)]
        found += proto_strings(proto)
    return found


# ---- how to tell English -------------------------------------------------------------------------------

_FUNCTION_WORDS = """
the of and to in is are was were be been by for with from this that these those it its at an has have had
not no yes any every which who what when where why how your you my our their they them we he she his her
will would can cannot should could than then there here only also just more most less some none each other
into over under after before since until while about above below per new last first next one two three ago
usually same week weeks hour hours day days show hide open close closed save set add yet now
"""
ENGLISH_ONLY = frozenset(_FUNCTION_WORDS.split())
"""English words that are not French words."""


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def _forms(text: object) -> list[str]:
    return [text] if isinstance(text, str) else list(typing.cast(dict, text).values())


def _without_placeholders(text: str) -> str:
    return "".join(literal for literal, *_ in string.Formatter().parse(text))


def english_words() -> frozenset[str]:
    """English words a page could show: function words, the words of the English interface strings and of
    the values Écoute names in code (sentiments, intents, statuses...) that French does not use."""
    french = {w for text in FRENCH.values() for form in _forms(text) for w in _words(form)}
    english = {w for text in ENGLISH.values() for form in _forms(text)
               for w in _words(_without_placeholders(form))}  # fmt: skip
    from core import documents
    from nlp.entities import LABELS

    values = {*typing.get_args(Intent), *LABELS.values(), "positive", "neutral", "negative", "fuzzy"}
    values |= {"handle", "confirmed", "email", "webhook", "sent", "failed", "pending", "sending", "spike"}
    for model in vars(documents).values():
        if isinstance(model, type) and hasattr(model, "model_fields"):
            for info in model.model_fields.values():
                for arg in _literals(info.annotation):
                    values.add(arg)
    coded = {w for value in values for w in _words(value.replace("_", " "))}
    return frozenset((ENGLISH_ONLY | {w for w in english | coded if len(w) >= 4}) - french)


def _literals(annotation: object) -> Iterator[str]:
    if typing.get_origin(annotation) is typing.Literal:
        yield from (a for a in typing.get_args(annotation) if isinstance(a, str))
    for arg in typing.get_args(annotation):
        yield from _literals(arg)


ENGLISH = english_words()
BILINGUAL = "Language · Langue"
"""The language picker's own label, in both languages so anyone finds it."""

URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+", re.IGNORECASE)
ADDRESS = re.compile(r"[\w.+-]*@[\w-]+(\.[\w-]+)*", re.UNICODE)
OPERATORS = re.compile(r"\b(AND|OR|NOT|NEAR)\b")
"""The query language's operators, the same in every language."""
IDENTIFIER = re.compile(r"\b[0-9a-f]{12,}\b")
"""Ids: of documents, of a chart's data."""
CONFIG_KEY = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")
ENGLISH_NUMBER = re.compile(r"\d\.\d|\d,\d{3}(?!\d)|\d%")
MARKUP = re.compile(r":[a-z]+-badge\[|:material/[a-z_]+:|\\(?=\W)|\u2060|\*\*")


def english_in(text: str, data: list[str]) -> list[str]:
    """What in `text` is English once data, addresses and markup are taken out."""
    rest = MARKUP.sub("", text)
    rest = rest.replace(BILINGUAL, " ")
    for value in data:
        if value in rest:
            rest = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", rest)
    rest = CONFIG_KEY.sub(" ", ADDRESS.sub(" ", URL.sub(" ", OPERATORS.sub(" ", IDENTIFIER.sub(" ", rest)))))
    found = sorted(_words(rest) & ENGLISH)
    found += ENGLISH_NUMBER.findall(rest)
    return found


# ---- the pages, as their users open them ---------------------------------------------------------------

Step = Callable[[AppTest], None]


@dataclass
class View:
    """A page opened by someone, and what they do on it: each step's page is read."""

    name: str
    page: str
    user: str
    query: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    shows: list[str] = field(default_factory=list)  # keys of French strings the page must show, in part


def mention_id(native_id: str) -> str:
    return document_id("mastodon-lumio", native_id)


def _inbox_steps() -> list[Step]:
    panne = mention_id("panne")
    return [
        lambda at: at.checkbox(key=f"triage_pick_{panne}").check(),
        lambda at: at.button(key=f"triage_toggle_{panne}").click(),
        lambda at: at.toggle(key="inbox_export").set_value(True),
        lambda at: at.radio(key="inbox_order").set_value("newest"),
        lambda at: at.selectbox(key=f"triage_status_{panne}").set_value("closed"),
        lambda at: next(b for b in at.button if b.form_id == f"triage_form_{panne}").click(),
        lambda at: at.selectbox(key="inbox_saved").set_value(
            document_id("saved-search", ADMIN, SAVED_SEARCH.casefold())
        ),
    ]


def _alerts_steps() -> list[Step]:
    return [
        lambda at: at.checkbox(key="alerts_open_only").uncheck(),
        lambda at: at.session_state.__setitem__("alerts_scope", "everyone"),
        lambda at: at.session_state.__setitem__("alerts_view", "rules"),
        lambda at: at.selectbox(key="rule_pick").set_value("negative-by-customer"),
        lambda at: at.selectbox(key="rule_pick").set_value("pannes-pro"),
        lambda at: at.text_input(key="rule_pannes-pro_query").input('panne AND "coupure'),
        lambda at: at.selectbox(key="rule_pick").set_value("topic-spike"),
        lambda at: at.selectbox(key="rule_pick").set_value(""),
        lambda at: at.text_input(key="rule__name").input("Règle à moi"),
    ]


VIEWS = [
    View("sign-in", "", "", shows=["sign_in_title", "password"]),
    View(
        "inbox",
        "pages/inbox.py",
        ADMIN,
        steps=_inbox_steps(),
        shows=[
            "inbox_title",
            "history",
            "bulk_apply",
            "export_mentions",
            "entity_place",
            "link_method_handle",
            "sentiment_negative",
            "intent_churn_risk",
            "triage_saved",
            "saved_delete",
        ],
    ),
    View(
        "inbox-missing-mention",
        "pages/inbox.py",
        CM,
        {"mention": "introuvable"},
        shows=["inbox_title", "attention_untriaged", "flag_future_date"],
    ),
    View(
        "insights",
        "pages/insights.py",
        ADMIN,
        steps=[lambda at: at.toggle(key="insights_compare").set_value(True)],
        shows=["insights_title", "positive", "spike_open_inbox", "intent_praise", "change"],
    ),
    View(
        "customers",
        "pages/customers.py",
        ADMIN,
        {"customer": "1"},
        steps=[lambda at: at.text_input(key="customer_search").input("Martin")],
        shows=[
            "customers_title",
            "open_opportunities",
            "interactions",
            "timeline_alert",
            "timeline_what",
            "net_sentiment_30d",
        ],
    ),
    View(
        "customer-with-problems",
        "pages/customers.py",
        ADMIN,
        {"customer": "2"},
        shows=["handle_form_bluesky", "quality_issue_missing_owner"],
    ),
    View("customers-sales", "pages/customers.py", SALES, {"customer": "4"}, shows=["my_accounts"]),
    View(
        "alerts",
        "pages/alerts.py",
        ADMIN,
        steps=_alerts_steps(),
        shows=[
            "alerts_title",
            "delivery_status_failed",
            "builtin_rule_negative_by_customer",
            "rule_name_invalid",
            "alert_status_acknowledged",
            "query_error_unclosed_quote",
            "rule_preview_spike",
        ],
    ),
    View(
        "alert-spike",
        "pages/alerts.py",
        ADMIN,
        {"alert": "spike"},
        shows=["spike_terms", "spike_authors", "spike_post", "alert_mentions"],
    ),
    View(
        "alerts-sales",
        "pages/alerts.py",
        SALES,
        steps=[lambda at: at.checkbox(key="alerts_open_only").uncheck()],
        shows=["alerts_title", "alerts_open_only"],
    ),
    View("team", "pages/team.py", ADMIN, shows=["team_title", "team_by_intent", "team_backlog"]),
    View(
        "admin",
        "pages/admin.py",
        ADMIN,
        shows=["admin_title", "routing_when_intents", "feature_off", "source_state_failing", "target_alerts"],
    ),
    View(
        "review",
        "pages/review.py",
        ADMIN,
        shows=["review_title", "link_fact_name", "review_decided", "crm_rows_read"],
    ),
]


def _parts(text: object) -> list[str]:
    """The literal parts of a French string (of its first form, for a plural), its values left out."""
    form = _forms(text)[-1]
    return [part.strip() for part in re.split(r"\{[^}]*\}", form) if len(part.strip()) > 2]


def test_every_page_of_the_table_is_read_by_someone_allowed_to_open_it():
    opened = {(v.page, v.user) for v in VIEWS}
    assert {p.script for p in PAGES} <= {page for page, _ in opened}
    roles = {u: r for u, r in ((ADMIN, "admin"), (CM, "community_manager"), (SALES, "sales"))}
    for page, user in opened:
        assert not page or any(p.script == page and roles[user] in p.roles for p in PAGES), (page, user)
    assert any(p.script == "pages/customers.py" and u == SALES for p in PAGES for _, u in opened)


@pytest.fixture
def settings_file(tmp_path: Path, es_server: EmbeddedServer, names: IndexNames) -> Path:
    """The shipped config.yaml with a CRM in CSV files, routing, team queues, targets and a webhook."""
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    dates = {"two_days_ago": ago(48).isoformat(), "month_ago": ago(24 * 30).isoformat()}
    (tmp_path / "tickets.csv").write_text(TICKETS.format(**dates), encoding="utf-8")
    crm = {"sources": [{"name": "crm-fichiers", "type": "csv", "mapping": CRM_MAPPING}]}
    targets = {"complaint": "2h", "question": "8h", "alerts": "30m"}
    path = write_config(
        tmp_path, es_server.url, names.prefix, crm=crm, routing=ROUTING, service_targets=targets
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["alerts"]["channels"] = {"webhooks": [WEBHOOK]}
    (news,) = [source for source in data["sources"] if source["name"] == "lumio-news"]
    news["enabled"] = True  # a second source running, and failing
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def in_french(at: AppTest) -> AppTest:
    """Run the page again in French. AppTest lists app.py's sidebar (and its language picker) on a tab's
    first page only, so the choice is set again before each run, as if picked in the sidebar."""
    at.session_state["language"] = "fr"
    return at.run(timeout=60)


def open_in_french(view: View) -> AppTest:
    """The sign-in page in French, then the view's page as its user, with its address's parameters."""
    at = AppTest.from_file(str(APP), default_timeout=60).run(timeout=60)
    at.selectbox(key="language").set_value("fr").run(timeout=60)
    if not view.user:
        return at
    at.text_input(key="sign_in_email").input(view.user)
    at.text_input(key="sign_in_password").input(DEMO_PASSWORD)
    (button,) = [b for b in at.button if b.label == FRENCH["sign_in"]]
    button.click().run(timeout=60)
    at.query_params.update(view.query)
    at.session_state["language"] = "fr"
    at.switch_page(view.page).run(timeout=60)
    return at


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_a_french_page_shows_no_english(
    es: Elasticsearch, names: IndexNames, settings_file: Path, monkeypatch: pytest.MonkeyPatch, view: View
):
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    settings = load_settings(settings_file)
    busy_day(es, names, settings)
    if view.query.get("alert") == "spike":
        spike = next(a for a in alerts_for(es, names, recipients=None) if a.kind == "spike")
        view = View(view.name, view.page, view.user, {"alert": spike.id}, shows=view.shows)
    data = data_strings(es, names, settings)
    at = open_in_french(view)
    seen = [page_strings(at)]
    for step in view.steps:
        assert not at.exception, [e.value for e in at.exception]
        step(at)
        in_french(at)
        seen.append(page_strings(at))
    assert not at.exception, [e.value for e in at.exception]
    english = {
        f"{view.name}: {text!r} ({', '.join(words)})"
        for strings in seen
        for text in strings
        if (words := english_in(text, data))
    }
    assert not english, "English on a French page:\n" + "\n".join(sorted(english))
    everything = " ".join(text for strings in seen for text in strings).replace("\\", "")
    missing = [key for key in view.shows if not all(part in everything for part in _parts(FRENCH[key]))]
    assert not missing, f"{view.name}: the data should make the page show these, in French: {missing}"
