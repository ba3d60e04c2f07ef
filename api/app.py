"""The read-only HTTP API for other tools: mention search, one mention, a customer's 360, alerts, /metrics.

Every route but `/healthz` needs `Authorization: Bearer <key>`; each key has a role and reads what the
dashboard role of the same name reads (a sales key only its owner's customers, their mentions and
alerts; a `metrics` key only /metrics). Keys live in the environment, never in config.yaml or a log.
Nothing here writes: triage stays in the dashboard, where it is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import ApiError as EsApiError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout, Elasticsearch, NotFoundError, TransportError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.metrics import collect_metrics
from core.documents import Mention
from core.errors import EcouteError
from ecoute.config import MIN_API_KEY_CHARS, ApiConfig, ApiRole, Settings
from index.alerts import alerts_for
from index.client import IndexNames
from index.crm import records_of_customer
from index.customers import get_customer, owner_scope, search_customers
from index.mention_search import ORDERS, MentionFilter, OwnerScope, search_mentions
from index.mentions import get_mention
from index.search_bounds import SearchTooComplexError

log = logging.getLogger("ecoute.api")

READERS: dict[str, frozenset[ApiRole]] = {
    "mentions": frozenset({"community_manager", "marketer", "admin"}),
    "mention": frozenset({"community_manager", "marketer", "sales", "admin"}),
    "customers": frozenset({"community_manager", "marketer", "sales", "admin"}),
    "alerts": frozenset({"community_manager", "marketer", "sales", "admin"}),
    "metrics": frozenset({"admin", "metrics"}),
}
MAX_OFFSET = 10_000  # Elasticsearch's default max_result_window
CUSTOMER_MENTIONS_DAYS = 90
RELATIVE = re.compile(r"^(\d{1,5})([hd])$")


class ApiRequestError(Exception):
    """A request the API answers with `status` and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: ApiRole
    owner_email: str | None
    digest: bytes


def load_keys(config: ApiConfig, environ: Mapping[str, str] | None = None) -> tuple[list[ApiKey], list[str]]:
    """The keys whose variable is set and long enough, and one line for each that is off (never its value)."""
    environ = os.environ if environ is None else environ
    keys, problems = [], []
    for key in config.keys:
        value = environ.get(key.key_env, "")
        if not value:
            problems.append(f"api key {key.name!r}: {key.key_env} is not set; the key is off")
        elif len(value) < MIN_API_KEY_CHARS:
            problems.append(
                f"api key {key.name!r}: {key.key_env} holds under {MIN_API_KEY_CHARS} characters; "
                "the key is off"
            )
        else:
            keys.append(ApiKey(key.name, key.role, key.owner_email, _digest(value)))
    return keys, problems


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


@dataclass
class ApiContext:
    """What every request reads: the index, the settings, the keys."""

    es: Elasticsearch
    names: IndexNames
    settings: Settings
    keys: list[ApiKey]

    def caller(self, request: Request, reads: str) -> ApiKey:
        """The key of this request, allowed to read `reads`; 401 or 403 otherwise."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiRequestError(401, "an API key is needed: Authorization: Bearer <key>")
        presented = _digest(token.strip())
        found = None
        for key in self.keys:  # every key is compared, so the time says nothing about which nearly matched
            if hmac.compare_digest(key.digest, presented):
                found = key
        if found is None:
            raise ApiRequestError(401, "unknown API key")
        if found.role not in READERS[reads]:
            raise ApiRequestError(403, f"a {found.role} key cannot read {reads}")
        return found

    def scope_of(self, key: ApiKey) -> OwnerScope | None:
        if key.role != "sales":
            return None
        assert key.owner_email is not None  # ApiKeyConfig requires it for sales
        return owner_scope(self.es, self.names, key.owner_email)


class Params:
    """A request's query parameters, checked against the ones its route knows."""

    def __init__(self, request: Request, known: set[str]) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ApiRequestError(
                400, f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        self.query = request.query_params

    def text(self, name: str, default: str = "") -> str:
        return self.query.get(name, default)

    def values(self, name: str) -> list[str]:
        """Repeated (`?source=a&source=b`) or comma-separated (`?source=a,b`)."""
        return [v.strip() for raw in self.query.getlist(name) for v in raw.split(",") if v.strip()]

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiRequestError(400, f"{name} must be a whole number, not {raw[:40]!r}") from None
        if not low <= value <= high:
            raise ApiRequestError(400, f"{name} must be between {low} and {high}, not {value}")
        return value

    def when(self, name: str, now: datetime) -> datetime | None:
        """An ISO 8601 date or time (UTC when no offset is given), or `7d` / `24h` before now."""
        raw = self.query.get(name)
        if not raw:
            return None
        relative = RELATIVE.match(raw)
        if relative:
            amount, unit = int(relative[1]), relative[2]
            return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
        try:
            parsed = datetime.fromisoformat(raw) if "T" in raw or " " in raw else None
            if parsed is None:
                day = date.fromisoformat(raw)
                parsed = datetime(day.year, day.month, day.day)
        except ValueError:
            raise ApiRequestError(
                400, f"{name} must be an ISO 8601 date or time, or 7d / 24h, not {raw[:40]!r}"
            ) from None
        try:  # in UTC, as the index compares: year 1 at +01:00 is before any date
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:
            raise ApiRequestError(400, f"{name} is out of range in UTC: {raw[:40]!r}") from None

    def flag(self, name: str) -> bool:
        raw = self.query.get(name, "false").lower()
        if raw not in {"true", "false", "1", "0"}:
            raise ApiRequestError(400, f"{name} must be true or false, not {raw[:40]!r}")
        return raw in {"true", "1"}


def mention_json(mention: Mention) -> dict[str, Any]:
    """A mention as the API shows it: every field but the platform's raw payload."""
    return mention.model_dump(mode="json", exclude={"raw"})


MENTION_FILTERS = {"q", "source", "platform", "language", "sentiment", "intent", "status", "customer"}
MENTION_PARAMS = MENTION_FILTERS | {
    "since",
    "until",
    "order",
    "limit",
    "offset",
    "customers_only",
    "hide_noise",
}


def list_mentions(ctx: ApiContext, request: Request) -> dict[str, Any]:
    ctx.caller(request, "mentions")
    params = Params(request, MENTION_PARAMS)
    now = datetime.now(UTC)
    order = params.text("order", "newest")
    if order not in ORDERS:
        raise ApiRequestError(400, f"order must be one of {', '.join(ORDERS)}, not {order[:40]!r}")
    flt = MentionFilter(
        query=params.text("q"),
        sources=params.values("source"),
        platforms=params.values("platform"),
        languages=params.values("language"),
        sentiments=params.values("sentiment"),
        intents=params.values("intent"),
        statuses=params.values("status"),
        customer_id=params.text("customer") or None,
        customers_only=params.flag("customers_only"),
        hide_noise=params.flag("hide_noise"),
        since=params.when("since", now),
        until=params.when("until", now),
    )
    limit = params.integer("limit", 50, 1, ctx.settings.api.max_page_size)
    offset = params.integer("offset", 0, 0, MAX_OFFSET - limit)
    page = search_mentions(ctx.es, ctx.names, flt, size=limit, offset=offset, order=order)
    return {
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "mentions": [{**mention_json(hit.mention), "highlights": hit.highlights} for hit in page.hits],
    }


def one_mention(ctx: ApiContext, request: Request) -> dict[str, Any]:
    key = ctx.caller(request, "mention")
    Params(request, set())
    mention = get_mention(ctx.es, ctx.names, request.path_params["mention_id"])
    scope = ctx.scope_of(key)
    if mention is not None and scope is not None:
        mention = scope.shown_mention(mention)
    if mention is None:
        raise ApiRequestError(404, "no such mention")
    return mention_json(mention)


def list_customers(ctx: ApiContext, request: Request) -> dict[str, Any]:
    key = ctx.caller(request, "customers")
    params = Params(request, {"q", "limit"})
    limit = params.integer("limit", 50, 1, ctx.settings.api.max_page_size)
    found = search_customers(ctx.es, ctx.names, params.text("q"), size=limit, scope=ctx.scope_of(key))
    return {"customers": [c.model_dump(mode="json") for c in found]}


def customer_360(ctx: ApiContext, request: Request) -> dict[str, Any]:
    """The customer, what the CRM says beside it, their mentions of the last 90 days and their alerts."""
    key = ctx.caller(request, "customers")
    params = Params(request, {"limit"})
    limit = params.integer("limit", 50, 1, ctx.settings.api.max_page_size)
    scope = ctx.scope_of(key)
    customer = get_customer(ctx.es, ctx.names, request.path_params["customer_id"], scope=scope)
    if customer is None:
        raise ApiRequestError(404, "no such customer")
    records = records_of_customer(ctx.es, ctx.names, customer, scope=scope)
    since = datetime.now(UTC) - timedelta(days=CUSTOMER_MENTIONS_DAYS)
    page = search_mentions(
        ctx.es, ctx.names, MentionFilter(customer_id=customer.customer_id, since=since), size=limit
    )
    alerts = alerts_for(ctx.es, ctx.names, customer_ids=[customer.customer_id], size=limit, scope=scope)
    return {
        "customer": customer.model_dump(mode="json"),
        "crm": {
            "account": records.account.model_dump(mode="json") if records.account else None,
            "opportunities": [r.model_dump(mode="json") for r in records.opportunities],
            "interactions": [r.model_dump(mode="json") for r in records.interactions],
            "withheld": records.withheld,
        },
        "mentions": {
            "days": CUSTOMER_MENTIONS_DAYS,
            "total": page.total,
            "items": [mention_json(hit.mention) for hit in page.hits],
        },
        "alerts": [a.model_dump(mode="json") for a in alerts],
    }


def list_alerts(ctx: ApiContext, request: Request) -> dict[str, Any]:
    key = ctx.caller(request, "alerts")
    params = Params(request, {"status", "customer", "since", "until", "limit"})
    now = datetime.now(UTC)
    status = params.text("status") or None
    if status not in {None, "new", "acknowledged"}:
        raise ApiRequestError(400, f"status must be new or acknowledged, not {status[:40]!r}")
    customer = params.text("customer")
    alerts = alerts_for(
        ctx.es,
        ctx.names,
        customer_ids=[customer] if customer else None,
        status=status,
        since=params.when("since", now),
        until=params.when("until", now),
        size=params.integer("limit", 50, 1, ctx.settings.api.max_page_size),
        scope=ctx.scope_of(key),
    )
    return {"alerts": [a.model_dump(mode="json") for a in alerts]}


def metrics(ctx: ApiContext, request: Request) -> str:
    ctx.caller(request, "metrics")
    Params(request, set())
    return collect_metrics(ctx.es, ctx.names, ctx.settings)


def _answer(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _endpoint(
    ctx: ApiContext, handler: Callable[[ApiContext, Request], Any]
) -> Callable[[Request], Response]:
    """A route: the handler's result as JSON (or Prometheus text), every failure as one line of JSON."""

    def run(request: Request) -> Response:
        try:
            result = handler(ctx, request)
        except ApiRequestError as exc:
            extra = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
            return _answer(exc.status, exc.message, **extra)
        except SearchTooComplexError as exc:
            return _answer(400, str(exc))
        except (EsConnectionError, ConnectionTimeout) as exc:
            log.warning("api: the index did not answer: %s", type(exc).__name__)
            return _answer(503, "the index is unreachable; try again shortly", **{"Retry-After": "5"})
        except NotFoundError as exc:
            if exc.error == "index_not_found_exception":
                return _answer(503, "no indices yet: run `ecoute collect` first")
            return _answer(502, f"the index refused the request: {exc.error}")
        except EsApiError as exc:
            return _answer(502, f"the index refused the request: {exc.error}")
        except TransportError as exc:
            log.warning("api: the index did not answer: %s", type(exc).__name__)
            return _answer(503, "the index is unreachable; try again shortly", **{"Retry-After": "5"})
        except EcouteError as exc:  # a query the parser refused, with where
            return _answer(400, str(exc))
        if isinstance(result, str):
            return PlainTextResponse(result, media_type="text/plain; version=0.0.4; charset=utf-8")
        return JSONResponse(result)

    return run


def make_app(ctx: ApiContext) -> Starlette:
    def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/mentions", _endpoint(ctx, list_mentions), methods=["GET"]),
        Route("/v1/mentions/{mention_id}", _endpoint(ctx, one_mention), methods=["GET"]),
        Route("/v1/customers", _endpoint(ctx, list_customers), methods=["GET"]),
        Route("/v1/customers/{customer_id}", _endpoint(ctx, customer_360), methods=["GET"]),
        Route("/v1/alerts", _endpoint(ctx, list_alerts), methods=["GET"]),
        Route("/metrics", _endpoint(ctx, metrics), methods=["GET"]),
    ]

    async def not_found(_: Request, __: Exception) -> Response:
        return _answer(404, "no such route (see README: Read API)")

    async def not_allowed(_: Request, __: Exception) -> Response:
        return _answer(405, "the API only reads: GET")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
