"""Privacy stage: a person's erasure and each source's retention, over the index and the state folder."""

from __future__ import annotations

from pathlib import Path

from elasticsearch import Elasticsearch

from ecoute.privacy import Gdpr
from ecoute.safeguards import PrivacyConfig
from index.client import IndexNames


class Privacy:
    """GDPR operations with the configured privacy block and the pseudonym key."""

    def __init__(
        self,
        es: Elasticsearch,
        names: IndexNames,
        state_dir: Path,
        config: PrivacyConfig,
        pseudonym_key: str | None,
        source_names: list[str],
    ) -> None:
        self.es, self.names, self.state_dir = es, names, state_dir
        self.config, self.pseudonym_key, self.source_names = config, pseudonym_key, source_names

    def gdpr(self) -> Gdpr:
        """Access, erasure and retention over the index, the spool, the journal and the dead letters."""
        return Gdpr(self.es, self.names, self.state_dir, self.config, self.pseudonym_key)

    def apply_retention(self) -> dict[str, int]:
        """Delete mentions older than each source's retention (privacy.retention_days)."""
        return self.gdpr().apply_retention(self.source_names)
