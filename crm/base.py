"""The connector interface and the records every CRM source yields, whatever its shape.

A connector only reads rows (file, sheet, SQL table, REST list); `pull` maps them to records with the
source's `mapping`, keeps the updated-at cursor and the ids still present (so deletions propagate),
and lists every rejected row with its reason. A connector that can also write offers `ReplyNotes`
(a sent reply noted on the contact's record); the others only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, ClassVar, Protocol, runtime_checkable

from dateutil import parser as dateparser
from pydantic import BaseModel, Field
from rapidfuzz import process

from core.documents import Reply
from core.errors import ConfigError, EcouteError
from core.progress import Progress
from crm.sources import ENTITIES, CrmSourceConfig, Entity, EntityMapping
from nlp.language import storable, storable_value

NETWORKS = ("mastodon", "bluesky", "reddit", "x", "instagram", "linkedin")


class CrmSourceError(EcouteError):
    """A CRM source cannot be read at all (unreachable database, unreadable file, refused API key), or
    did not take a write."""

    def __init__(self, source: str, where: str, reason: str) -> None:
        super().__init__(f"crm {source}: {where}: {reason}")
        self.source, self.where, self.reason = source, where, reason


class RowError(ValueError):
    """One row cannot become a record; it is rejected with this reason and the rest flows on."""


class AccountRecord(BaseModel):
    account_id: str
    company: str | None = None
    segment: str | None = None
    value: float | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    updated_at: datetime | None = None


class ContactRecord(BaseModel):
    customer_id: str
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    company: str | None = None
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    handles: dict[str, str] = Field(default_factory=dict, description="network -> handle as the CRM has it")
    language: str | None = None
    segment: str | None = None
    account_value: float | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    updated_at: datetime | None = None


class OpportunityRecord(BaseModel):
    opportunity_id: str
    account_id: str | None = None
    customer_id: str | None = None
    name: str | None = None
    stage: str | None = None
    amount: float | None = None
    close_date: datetime | None = None
    updated_at: datetime | None = None


class InteractionRecord(BaseModel):
    """A ticket, call, order... with the customer."""

    interaction_id: str
    customer_id: str | None = None
    account_id: str | None = None
    kind: str | None = None
    subject: str | None = None
    status: str | None = None
    occurred_at: datetime | None = None
    updated_at: datetime | None = None


RECORDS: dict[Entity, type[BaseModel]] = {
    "accounts": AccountRecord,
    "contacts": ContactRecord,
    "opportunities": OpportunityRecord,
    "interactions": InteractionRecord,
}
ID_FIELD: dict[Entity, str] = {
    "accounts": "account_id",
    "contacts": "customer_id",
    "opportunities": "opportunity_id",
    "interactions": "interaction_id",
}
# Fields a mapping may name besides the record's own: `deleted` (soft delete flag), `email2`...
EXTRA_FIELDS: dict[Entity, tuple[str, ...]] = {
    "accounts": ("deleted",),
    "contacts": ("deleted", "email", "phone", *(f"handles.{n}" for n in NETWORKS)),
    "opportunities": ("deleted",),
    "interactions": ("deleted",),
}
LIST_FIELDS = {"emails", "phones"}


def known_fields(entity: Entity) -> list[str]:
    fields = [f for f in RECORDS[entity].model_fields if f not in ("handles",)]
    return [*fields, *EXTRA_FIELDS[entity]]


def default_columns(entity: Entity) -> dict[str, str]:
    """Without a mapping, a column named like the field is used when the source has it."""
    columns = {f: f for f in known_fields(entity)}
    for network in NETWORKS:  # the sample CSV names handle columns after the network
        columns[f"handles.{network}"] = network
    return columns


class RowSource(Protocol):
    """What a connector does: list a table's columns and read its rows. It never writes anywhere."""

    type: ClassVar[str]
    name: str

    def columns(self, entity: Entity, table: str) -> list[str]:
        """The table's column names; CrmSourceError when the table cannot be read."""
        ...

    def rows(
        self, entity: Entity, table: str, since: datetime | None, updated_column: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(where, row) for each row updated at or after `since` (every row when None or not supported)."""
        ...

    def ids(self, entity: Entity, table: str, id_column: str) -> set[str] | None:
        """Every id in the table now, to propagate deletions; None when `rows` always reads everything."""
        ...


@runtime_checkable
class ReplyNotes(Protocol):
    """The one write a connector may offer: a sent reply noted on its customer's record in the CRM."""

    name: str

    def note_reply(self, reply: Reply, retrying: bool) -> str:
        """Note `reply` on the record of `reply.customer_id`; the CRM's id of the note. `retrying`: an
        earlier attempt may have made it, so it is looked for first and never made twice.
        CrmSourceError (one line, no secret) when the CRM does not take it."""
        ...

    def close(self) -> None: ...


@dataclass
class Rejected:
    where: str
    reason: str

    def line(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class CrmPull:
    """One read of one source: changed records, every id still there, rejected rows, the next cursor."""

    source: str
    records: dict[Entity, list[BaseModel]] = field(default_factory=lambda: {e: [] for e in ENTITIES})
    present: dict[Entity, set[str]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    rows_read: int = 0
    unchanged: int = 0


def resolve_columns(
    config: CrmSourceConfig,
    entity: Entity,
    mapping: EntityMapping,
    available: list[str],
    defaults: dict[str, str] | None = None,
) -> dict[str, str]:
    """Écoute field -> source column; a configured column the source lacks is a ConfigError naming it."""
    where = f"crm.sources.{config.name}.mapping.{entity}"
    known = known_fields(entity)
    have = set(available)
    resolved: dict[str, str] = {}
    for ecoute_field, column in mapping.columns.items():
        if ecoute_field not in known:
            raise ConfigError(
                f"{where}.columns.{ecoute_field}: unknown field{_did_you_mean(ecoute_field, known)} "
                f"(fields: {', '.join(known)})"
            )
        if column not in have:
            raise ConfigError(
                f"{where}.columns.{ecoute_field}: column {column!r} is not in {mapping.table}"
                f"{_did_you_mean(column, available)} (columns: {', '.join(available)})"
            )
        resolved[ecoute_field] = column
    for ecoute_field, column in (defaults or default_columns(entity)).items():
        if ecoute_field not in resolved and column in have:
            resolved[ecoute_field] = column
    id_field = ID_FIELD[entity]
    if id_field not in resolved:
        raise ConfigError(
            f"{where}.columns.{id_field}: no column for the record id in {mapping.table} "
            f"(columns: {', '.join(available)})"
        )
    return resolved


def _did_you_mean(word: str, choices: list[str]) -> str:
    best = process.extractOne(word, choices, score_cutoff=70) if choices else None
    return f" (did you mean {best[0]!r}?)" if best else ""


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets store ids and phone numbers as floats
    value = str(value).strip()
    return value or None


def number(value: Any, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(Decimal(str(value).strip().replace(" ", "").replace("\u202f", "")))
    except InvalidOperation as exc:
        raise RowError(f"{name} {value!r} is not a number") from exc


def moment(value: Any, name: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif hasattr(value, "isoformat"):  # a date
        parsed = datetime.fromisoformat(value.isoformat())
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())  # fast path for ISO 8601
        except ValueError:
            try:
                parsed = dateparser.parse(str(value).strip(), dayfirst=True)
            except (ValueError, OverflowError) as exc:
                raise RowError(f"{name} {value!r} is not a date") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t", "oui", "deleted"}
    return bool(value)


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in (text(x) for x in value) if v]
    found = text(value)
    return [p.strip() for p in found.replace(",", ";").split(";") if p.strip()] if found else []


@cache
def _field_kinds(entity: Entity) -> dict[str, str]:
    kinds = {}
    for name, info in RECORDS[entity].model_fields.items():
        annotation = str(info.annotation)
        kinds[name] = "number" if "float" in annotation else "moment" if "datetime" in annotation else "text"
    return kinds


def to_record(entity: Entity, row: dict[str, Any], columns: dict[str, str]) -> BaseModel:
    """One source row -> one record; RowError with the reason when a value cannot be read."""
    model = RECORDS[entity]
    kinds = _field_kinds(entity)
    data: dict[str, Any] = {}
    for ecoute_field, column in columns.items():
        value = row.get(column)
        if ecoute_field == "deleted":
            continue
        if ecoute_field.startswith("handles."):
            handle = text(value)
            if handle:
                data.setdefault("handles", {})[ecoute_field.split(".", 1)[1]] = handle
        elif ecoute_field in ("email", "phone"):
            data.setdefault(f"{ecoute_field}s", [])[:0] = _split(value)
        elif ecoute_field in LIST_FIELDS:
            data.setdefault(ecoute_field, []).extend(_split(value))
        elif kinds[ecoute_field] == "number":
            data[ecoute_field] = number(value, ecoute_field)
        elif kinds[ecoute_field] == "moment":
            data[ecoute_field] = moment(value, ecoute_field)
        else:
            data[ecoute_field] = text(value)
    for key in LIST_FIELDS & set(data):
        data[key] = list(dict.fromkeys(data[key]))
    record_id = data.get(ID_FIELD[entity])
    if not record_id:
        raise RowError(f"empty {ID_FIELD[entity]}")
    return model.model_validate(data)


def pull(
    config: CrmSourceConfig,
    source: RowSource,
    cursor: dict[str, str],
    full: bool = False,
    progress: Progress | None = None,
) -> CrmPull:
    """Read every mapped table of a source: records changed since the cursor, ids present, rejections.

    `progress` hears the rows read so far, as they are read (step "<source>: rows read").
    """
    step = f"{config.name}: rows read"
    if progress is not None:
        progress(step, 0, None)
    result = CrmPull(source=config.name)
    if "contacts" not in config.mapping:
        raise ConfigError(f"crm.sources.{config.name}.mapping: contacts is required")
    for entity in ENTITIES:
        mapping = config.mapping.get(entity)
        if mapping is None:
            continue
        defaults = source.default_columns(entity) if hasattr(source, "default_columns") else None
        columns = resolve_columns(config, entity, mapping, source.columns(entity, mapping.table), defaults)
        updated_column = columns.get("updated_at")
        since_text = None if full else cursor.get(entity)
        since = datetime.fromisoformat(since_text) if since_text and updated_column else None
        # Rows stamped exactly at the cursor are read again (one may have been committed after the last
        # run with the same stamp); those already mirrored then are recognised by id and skipped.
        at_cursor = set(cursor.get(f"{entity}@ids", [])) if since else set()
        newest_ids: set[str] = set()
        id_field = ID_FIELD[entity]
        present = source.ids(entity, mapping.table, columns[id_field])
        if present is not None:
            present = {storable(i) for i in present}
        from_rows = present is None
        seen: set[str] = set()
        deleted: set[str] = set()
        newest = since
        for where, raw_row in source.rows(entity, mapping.table, since, updated_column):
            # a lone surrogate (a JSON answer's "\ud800") cannot be UTF-8: the index would refuse the batch
            where, row = storable(where), storable_value(raw_row)
            result.rows_read += 1
            if progress is not None:
                progress(step, result.rows_read, None)
            if "__error__" in row:
                result.rejected.append(Rejected(where, row["__error__"]))
                continue
            row_id = text(row.get(columns[id_field]))
            if row_id and row_id in seen:
                result.rejected.append(Rejected(where, f"{id_field} {row_id} appears twice"))
                continue
            if row_id:
                seen.add(row_id)
            if "deleted" in columns and truthy(row.get(columns["deleted"])):
                deleted.add(row_id or "")
                continue
            try:
                record = to_record(entity, row, columns)
            except RowError as exc:
                result.rejected.append(Rejected(where, str(exc)))
                continue
            except ValueError as exc:  # pydantic's, first line only
                result.rejected.append(Rejected(where, str(exc).splitlines()[0]))
                continue
            updated = getattr(record, "updated_at", None)
            if updated and (newest is None or updated > newest):
                newest, newest_ids = updated, set()
            if updated and updated == newest:
                newest_ids.add(row_id or "")
            if since and updated and (updated < since or (updated == since and row_id in at_cursor)):
                result.unchanged += 1  # mirrored by an earlier run (sources that cannot filter themselves)
                continue
            result.records[entity].append(record)
        result.present[entity] = (seen if from_rows else set(present or ())) - deleted
        if newest and updated_column:
            result.cursor[entity] = newest.isoformat()
            result.cursor[f"{entity}@ids"] = sorted(
                (newest_ids | at_cursor) if newest == since else newest_ids
            )
    return result
