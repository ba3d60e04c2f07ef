"""The config blocks that lower layers receive (brand, index connection, secrets); ecoute/config.py
composes them into the whole Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrandConfig(Strict):
    name: str
    keywords: list[str] = Field(default_factory=list)
    competitors: dict[str, list[str]] = Field(
        default_factory=dict, description="competitor name -> keywords that mention it"
    )


class ElasticsearchConfig(Strict):
    url: str | None = Field(default=None, description="real cluster; unset: embedded stand-in")
    index_prefix: str = Field(default="ecoute", pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    ca_certs: Path | None = None
    verify_certs: bool = True
    request_timeout: float = Field(default=30.0, gt=0)
    embedded_port: int = Field(default=9200, ge=1, le=65535)


class IndexConfig(Strict):
    """How mentions are split into indices (one per month or ISO week of their `created_at`), and how
    each new index is laid out on a cluster."""

    granularity: Literal["month", "week"] = Field(
        default="month",
        description="month: about 24k mentions per index at 800/day; week for much busier installations",
    )
    shards: int = Field(
        default=1, ge=1, le=64, description="primary shards of each new index; one holds tens of GB"
    )
    replicas: int = Field(
        default=0, ge=0, le=8, description="copies of each shard on other nodes (a real cluster of several)"
    )
    lifecycle_policy: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        description="an ILM policy of the cluster for the mentions' period indices (deploy/elasticsearch/)",
    )


class Secrets(BaseSettings):
    """Credentials come from the environment only, never from config.yaml."""

    model_config = SettingsConfigDict(extra="ignore")

    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    smtp_password: SecretStr | None = None
    ecoute_pseudonym_key: SecretStr | None = None
