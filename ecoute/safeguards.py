"""Settings of the reliability and privacy safeguards (kept free of I/O so ecoute.config can use them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReliabilityConfig(BaseModel):
    """`reliability:` in config.yaml: how hard to push a write before spooling it."""

    model_config = ConfigDict(extra="forbid")

    bulk_attempts: int = Field(default=3, ge=1, le=10, description="tries of the documents a bulk rejected")
    bulk_backoff_seconds: float = Field(default=0.5, ge=0, le=30)
    replay_seconds: int = Field(default=30, ge=5, description="how often `ecoute run` replays the spool")
    standin_saved_after_seconds: float = Field(
        default=3.0,
        ge=1.5,
        le=600,
        description="the embedded stand-in saves its data about once a second: a write it acknowledged "
        "leaves the local journal once the same stand-in process still runs this long after",
    )
    index_watch_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="how often `ecoute run` checks the embedded index is alive"
    )


class PrivacyConfig(BaseModel):
    """`privacy:` in config.yaml."""

    model_config = ConfigDict(extra="forbid")

    pseudonymise_unlinked_authors: bool = Field(
        default=False,
        description="store authors who are not linked to a customer under a keyed pseudonym "
        "(needs ECOUTE_PSEUDONYM_KEY in the environment)",
    )
    retention_days: dict[str, int] = Field(
        default_factory=dict, description="source name -> delete its mentions older than this many days"
    )
    default_retention_days: int | None = Field(default=None, ge=1, description="for sources not listed")
    retention_check_hours: float = Field(default=24.0, gt=0)

    def retention_for(self, source: str) -> int | None:
        return self.retention_days.get(source, self.default_retention_days)
