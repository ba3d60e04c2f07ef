"""The settings model for config.yaml, validated once at start-up and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from alerts.settings import AlertRule as AlertRule  # re-exported: the alert models live in alerts/
from alerts.settings import AlertsConfig
from alerts.settings import Intent as Intent
from alerts.settings import Sentiment as Sentiment
from collectors.registry import AnySourceConfig
from core.config import BrandConfig, ElasticsearchConfig, IndexConfig, Strict
from core.errors import ConfigError
from crm.sources import AnyCrmSource
from ecoute.passwords import check_hash_format
from ecoute.routing import RoutingConfig
from ecoute.safeguards import PrivacyConfig, ReliabilityConfig
from ecoute.service import ServiceTargets
from nlp.dedup import DedupSettings
from replies.settings import ReplyPolicy


class LinkingConfig(Strict):
    """Fuzzy name + company linking: at or above `apply_above` the link is applied, from `review_above` it is
    proposed in the review queue, below it nothing is proposed."""

    apply_above: float = Field(default=0.95, ge=0.0, le=1.0)
    review_above: float = Field(default=0.6, ge=0.0, le=1.0)


class CrmConfig(Strict):
    customers_csv: Path | None = Field(
        default=None, description="shorthand for a csv source named crm-csv with the fields' own column names"
    )
    refresh_seconds: int = Field(default=3600, ge=60)
    sources: list[AnyCrmSource] = Field(default_factory=list)
    phone_region: str = Field(
        default="FR", pattern=r"^[A-Z]{2}$", description="country of phone numbers written without +"
    )
    linking: LinkingConfig = Field(default_factory=LinkingConfig)

    @model_validator(mode="after")
    def _unique_sources(self) -> CrmConfig:
        names = [s.name for s in self.sources] + (["crm-csv"] if self.customers_csv else [])
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"crm.sources: duplicate name {twice[0]!r}")
        return self


ModelName = Literal["fast", "accurate"]


class RescoringConfig(Strict):
    """The accurate model's background worker: how much it takes at once and how often it looks."""

    batch_size: int = Field(default=32, ge=1, le=1024)
    idle_seconds: float = Field(
        default=2.0,
        gt=0,
        description="first wait when nothing is left; doubles up to 5 min; new mentions wake it",
    )


class NlpConfig(Strict):
    batch_size: int = Field(default=64, ge=1, le=4096)
    entities: bool = True
    # fast scores each mention as it arrives; accurate re-scores stored mentions in the background.
    # Either alone is valid: accurate alone scores at ingest (slower), fast alone never re-scores.
    models: list[ModelName] = Field(default_factory=lambda: ["fast", "accurate"], min_length=1)
    # The fast model's trained head (`ecoute nlp train --out`); None: the bundled nlp/models/fast.
    model_dir: Path | None = None
    # The accurate model's trained head; None: the bundled nlp/models/accurate.
    accurate_model_dir: Path | None = None
    rescoring: RescoringConfig = Field(default_factory=RescoringConfig)
    # A Hugging Face sequence-classification model (local directory or hub name) for sentiment.
    sentiment_model: str | None = None
    duplicates: DedupSettings = Field(default_factory=DedupSettings)

    @field_validator("models")
    @classmethod
    def _models_once(cls, models: list[str]) -> list[str]:
        if len(set(models)) != len(models):
            raise ValueError("each model at most once")
        return models


class DashboardConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)
    red_after_failures: int = Field(
        default=3, ge=1, description="failed runs in a row after which a source's row turns red on Admin"
    )
    request_timeout: float = Field(
        default=15.0, gt=0, le=300, description="seconds the dashboard waits for any one index request"
    )
    reconnect_seconds: float = Field(
        default=5.0, gt=0, description="while the index is away, how often a page checks whether it is back"
    )
    live_refresh_seconds: float = Field(
        default=5.0, ge=1, description="how often the Inbox counts new mentions and checks my assignments"
    )
    export_max_rows: int = Field(
        default=50_000, ge=1, description="the most mentions one CSV or XLSX export of the Inbox holds"
    )


Role = Literal["community_manager", "marketer", "sales", "admin"]


class UserConfig(Strict):
    """A dashboard user; the password itself is never stored, only its scrypt hash."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str
    role: Role
    password_hash: str = Field(repr=False, description="from `ecoute users hash-password`")

    @field_validator("password_hash")
    @classmethod
    def _hash_form(cls, value: str) -> str:
        return check_hash_format(value)


class AuthConfig(Strict):
    session_minutes: int = Field(default=480, ge=1, description="a sign-in lasts this long")
    max_failed_sign_ins: int = Field(
        default=5,
        ge=1,
        description="wrong passwords from one address for one email before each try must wait",
    )
    max_failed_sign_ins_per_address: int = Field(
        default=20, ge=1, description="wrong passwords from one address, any email, before each try must wait"
    )
    first_delay_seconds: float = Field(default=1.0, gt=0, description="the first wait; it doubles after each")
    lockout_minutes: int = Field(
        default=15, ge=1, description="the longest wait; the account is never locked"
    )
    users: list[UserConfig] = Field(default_factory=list)


class RepliesConfig(ReplyPolicy):
    """Replies from the Inbox: whether each waits for a second person's approval, and which roles approve."""

    approvers: list[Role] = Field(  # type: ignore[assignment]
        default_factory=lambda: ["admin", "marketer"],
        min_length=1,
        description="the roles that approve replies; the author never approves their own",
    )


ApiRole = Literal["community_manager", "marketer", "sales", "admin", "metrics"]
MIN_API_KEY_CHARS = 32


class ApiKeyConfig(Strict):
    """One key of the read API. The key itself is never in config.yaml: it is read from `key_env`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    role: ApiRole = Field(
        description="what it may read, as the dashboard role of the same name; metrics: /metrics only"
    )
    key_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable holding the key")
    owner_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="sales keys: the account owner whose customers it reads",
    )

    @model_validator(mode="after")
    def _sales_have_an_owner(self) -> ApiKeyConfig:
        if self.role == "sales" and not self.owner_email:
            raise ValueError(
                f"api key {self.name!r}: a sales key needs owner_email (whose customers it reads)"
            )
        return self


class ApiConfig(Strict):
    """`ecoute api serve`: the read-only HTTP API and /metrics."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    keys: list[ApiKeyConfig] = Field(default_factory=list)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    allow_plain_http: bool = Field(
        default=False, description="serve a non-loopback address without TLS (only behind a TLS proxy)"
    )
    max_page_size: int = Field(default=200, ge=1, le=1000)
    request_timeout: float = Field(
        default=15.0, gt=0, le=300, description="seconds any one index request may take"
    )
    max_connections: int = Field(default=100, ge=2, le=10_000)

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiConfig:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("api: tls_certfile and tls_keyfile go together")
        names = [key.name for key in self.keys]
        if len(set(names)) != len(names):
            raise ValueError("api: two keys share a name")
        return self


class Settings(Strict):
    brand: BrandConfig
    elasticsearch: ElasticsearchConfig = Field(default_factory=ElasticsearchConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    state_dir: Path = Path(".state")
    sources: list[AnySourceConfig] = Field(default_factory=list)
    crm: CrmConfig = Field(default_factory=CrmConfig)
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    reliability: ReliabilityConfig = Field(default_factory=ReliabilityConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    timezone: str = Field(
        default="UTC", description="IANA zone (e.g. Europe/Paris) charts, day buckets and reports use"
    )
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    service_targets: ServiceTargets = Field(default_factory=ServiceTargets)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    base_dir: Path = Field(default=Path("."), exclude=True, description="folder of config.yaml")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Paris)") from exc
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for kind, names in (
            ("sources", [s.name for s in self.sources]),
            ("alerts.rules", [r.name for r in self.alerts.rules]),
            ("auth.users", [u.email for u in self.auth.users]),
        ):
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                raise ValueError(f"{kind}: duplicate name {sorted(seen)[0]!r}")
        return self

    def resolve(self, path: Path) -> Path:
        """A path from config.yaml, relative to the file's folder."""
        return path if path.is_absolute() else self.base_dir / path

    def source(self, name: str) -> AnySourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in config.yaml (known: {known})")


def load_settings(path: Path | str) -> Settings:
    """Read and validate config.yaml; any problem becomes one ConfigError line."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    data["base_dir"] = path.resolve().parent
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from exc


def _type_tags(*unions: object) -> frozenset[str]:
    """The `type` values of every source and CRM source model (pydantic's discriminator tags)."""
    models = [m for union in unions for m in get_args(get_args(union)[0])]
    return frozenset(tag for m in models for tag in get_args(m.model_fields["type"].annotation))


TYPE_TAGS = _type_tags(AnySourceConfig, AnyCrmSource)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: the dotted key, then what was expected."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
        # pydantic puts the discriminator tag inside the path; users never wrote it
        loc = [p for p in loc if p not in TYPE_TAGS]
        key = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = err["msg"]
            if err.get("input") is not None and err["type"] not in {"value_error"}:
                msg += f", got {err['input']!r}"
        lines.append(f"{key}: {msg}")
    return "; ".join(lines)
