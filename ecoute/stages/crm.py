"""CRM stage: the CRM sources mirrored into the index, the customer directory mentions are linked to, and
the sources that take notes of sent replies (`push_replies`), as the outbox asks for them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from elasticsearch import Elasticsearch

from core.documents import Customer, Reply
from core.errors import ConfigError, EcouteError
from core.names import normalise_handle
from core.progress import Progress
from crm.mirror import MirrorReport, mirror_source
from crm.registry import pushes_replies, reply_notes
from crm.sources import AnyCrmSource, configured_sources
from ecoute.config import CrmConfig
from index.client import IndexNames
from index.customers import all_customers
from index.reviews import customers_with_confirmed_handles, rejected_pairs
from nlp.linking import CustomerDirectory, LinkSettings

log = logging.getLogger("ecoute")


class CrmSourceFailed(EcouteError):
    """A CRM source could not be mirrored (its own message says which and why)."""


class Crm:
    """Mirrors the `crm` block's sources and keeps the directory of customers loaded from the index."""

    def __init__(self, es: Elasticsearch, names: IndexNames, config: CrmConfig, base_dir: Path) -> None:
        self.es, self.names, self.config, self.base_dir = es, names, config, base_dir
        self.directory = CustomerDirectory()

    def reload_directory(self) -> None:
        """Load every customer and every rejected link from the index, with the linking thresholds."""
        linking = self.config.linking
        self.directory = CustomerDirectory(
            all_customers(self.es, self.names),
            rejected=rejected_pairs(self.es, self.names),
            settings=LinkSettings(apply_above=linking.apply_above, review_above=linking.review_above),
        )

    def sources(self) -> list[AnyCrmSource]:
        """The enabled CRM sources, `crm.customers_csv` first as the source `crm-csv`."""
        return [s for s in configured_sources(self.config.customers_csv, self.config.sources) if s.enabled]

    def mirror(
        self, full: bool = False, only: str | None = None, progress: Progress | None = None
    ) -> list[MirrorReport | str]:
        """Refresh every CRM source (or `only` one); a source that fails is one error line, others go on.

        `progress` hears each source's rows as they are read.
        """
        sources = [s for s in self.sources() if only is None or s.name == only]
        if only and not sources:
            known = ", ".join(s.name for s in self.sources()) or "none"
            raise ConfigError(f"no CRM source named {only!r} in config.yaml (known: {known})")
        results: list[MirrorReport | str] = []
        for source in sources:
            try:
                report = mirror_source(
                    self.es, self.names, source, self.base_dir, self.config.phone_region, full, progress
                )
            except ConfigError:
                raise
            except EcouteError as exc:
                log.error("%s", exc)
                results.append(str(exc))
                continue
            for rejected in report.rejected:
                log.warning("crm %s: %s", source.name, rejected.line())
            results.append(report)
        self.reload_directory()
        return results

    def refresh_decisions(self) -> None:
        """Decisions taken in the review queue since the directory was loaded apply from now on."""
        for customer in customers_with_confirmed_handles(self.es, self.names):
            for handle in customer.confirmed_handles:
                self.directory.by_confirmed[normalise_handle(handle)] = customer
        self.directory.rejected = rejected_pairs(self.es, self.names)

    def import_customers(self) -> tuple[int, list[str]]:
        """Mirror every CRM source into the index; returns (customers written, rejected rows)."""
        written, rejected = 0, []
        for result in self.mirror():
            if isinstance(result, str):
                raise CrmSourceFailed(result)
            written += result.customers
            rejected += [r.line() for r in result.rejected]
        return written, rejected


class CrmReplyNotes:
    """The CRM sources that note sent replies (replies/outbox.py's CrmNotes): a customer's replies go to
    the source the customer is mirrored from, when that source has `push_replies`."""

    def __init__(self, sources: Iterable[AnyCrmSource], base_dir: Path) -> None:
        self.base_dir = base_dir
        self.sources = {s.name: s for s in sources if pushes_replies(s)}

    def source_for(self, customer: Customer) -> str | None:
        return customer.source if customer.source in self.sources else None

    def push(self, reply: Reply, source: str, retrying: bool) -> str:
        config = self.sources.get(source)
        if config is None:
            raise ConfigError(f"crm.sources: {source!r} is gone or no longer has push_replies")
        writer = reply_notes(config, self.base_dir)
        try:
            return writer.note_reply(reply, retrying)
        finally:
            writer.close()
