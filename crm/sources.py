"""config.yaml blocks of CRM sources: where the records are and how their columns map to Écoute's fields.

Kept free of I/O and of other Écoute imports so `ecoute.config` can use them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Entity = Literal["accounts", "contacts", "opportunities", "interactions"]
ENTITIES: tuple[Entity, ...] = ("accounts", "contacts", "opportunities", "interactions")


class EntityMapping(BaseModel):
    """One kind of record in the source: its table (file, sheet, SQL table, CRM entity) and its columns.

    `columns` maps an Écoute field (`email`, `handles.mastodon`...) to the source's column; a column
    named here must exist in the source, or the import stops with a ConfigError naming it.
    """

    model_config = ConfigDict(extra="forbid")

    table: str
    columns: dict[str, str] = Field(default_factory=dict)


class CrmSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    enabled: bool = True
    mapping: dict[Entity, EntityMapping] = Field(
        description="contacts is required; accounts, opportunities and interactions when the source has them"
    )


class CsvSourceConfig(CrmSourceConfig):
    """CSV files, one per kind of record; `table` is the file's path, relative to config.yaml."""

    type: Literal["csv"]
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)


class XlsxSourceConfig(CrmSourceConfig):
    """One Excel workbook; `table` is a sheet name."""

    type: Literal["xlsx"]
    path: Path


class SqlSourceConfig(CrmSourceConfig):
    """Any database SQLAlchemy reaches; the password comes from the environment variable named here."""

    type: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL without password, e.g. postgresql+psycopg://crm@db/crm")
    password_env: str | None = None
    batch_size: int = Field(default=5000, ge=1)


class EspoCrmSourceConfig(CrmSourceConfig):
    """The REST API of EspoCRM (an API user's key, from the environment); read only unless
    `push_replies` asks for sent replies to be noted on the contact's stream."""

    type: Literal["espocrm"]
    url: str = Field(description="site address, e.g. https://crm.example.org")
    api_key_env: str = "ESPOCRM_API_KEY"
    page_size: int = Field(default=200, ge=1, le=200)
    timeout_seconds: float = Field(default=30.0, gt=0)
    push_replies: bool = Field(
        default=False,
        description="note each reply sent to one of its contacts on that contact's stream "
        "(the API user then needs create rights on Note)",
    )

    @model_validator(mode="after")
    def _notes_need_the_contact_id(self) -> EspoCrmSourceConfig:
        contacts = self.mapping.get("contacts")
        column = contacts.columns.get("customer_id", "id") if contacts else "id"
        if self.push_replies and column != "id":
            raise ValueError(
                f"push_replies: a note is made on the contact EspoCRM knows by its id, so "
                f"mapping.contacts.columns.customer_id must be id (it is {column!r})"
            )
        return self


AnyCrmSource = Annotated[
    CsvSourceConfig | XlsxSourceConfig | SqlSourceConfig | EspoCrmSourceConfig, Field(discriminator="type")
]


def legacy_csv_source(path: Path) -> CsvSourceConfig:
    """`crm.customers_csv: FILE` is a CSV source named `crm-csv` whose columns are named like the fields."""
    return CsvSourceConfig(name="crm-csv", type="csv", mapping={"contacts": EntityMapping(table=str(path))})


def configured_sources(customers_csv: Path | None, sources: Iterable[AnyCrmSource]) -> list[AnyCrmSource]:
    """Every CRM source of config.yaml, enabled or not: `crm.customers_csv` first, as the source
    `crm-csv`, then `crm.sources` in their order."""
    legacy = [legacy_csv_source(customers_csv)] if customers_csv else []
    return [*legacy, *sources]
