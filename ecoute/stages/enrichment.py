"""Enrichment stage: raw posts read by the models, then routed to their team and pseudonymised."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from core.config import BrandConfig
from core.documents import Mention, RawPost
from core.errors import EcouteError
from ecoute.config import NlpConfig
from ecoute.privacy import pseudonymise
from ecoute.routing import RoutingConfig, route, routed
from ecoute.safeguards import PrivacyConfig
from ecoute.spool import DeadLetters
from ecoute.stages.run import RunReport
from nlp.classifier import TextClassifier
from nlp.dedup import StreamDeduplicator
from nlp.language import storable
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich, unenriched

log = logging.getLogger("ecoute")
NOT_ENRICHED = "not enriched"
"""How a dead letter's reason starts when enriching the post failed (retrying enriches it again)."""


class Enrichment:
    """Turns raw posts into mentions: models, customer links, routing rules, then pseudonyms.

    `classifier` is called for each batch (the models load once per process, on first use).
    """

    def __init__(
        self,
        nlp: NlpConfig,
        brand: BrandConfig,
        routing: RoutingConfig,
        privacy: PrivacyConfig,
        pseudonym_key: str | None,
        classifier: Callable[[], TextClassifier],
        dead_letters: DeadLetters,
    ) -> None:
        self.nlp, self.brand, self.routing, self.privacy = nlp, brand, routing, privacy
        self.pseudonym_key, self.classifier, self.dead_letters = pseudonym_key, classifier, dead_letters
        self.deduplicator = StreamDeduplicator(nlp.duplicates)

    def enrich(
        self, posts: list[RawPost], directory: CustomerDirectory, report: RunReport | None = None
    ) -> list[Mention]:
        """Enrich a batch; if that fails, post by post, and a post that still fails goes to the dead letters
        with its reason (unenriched) while the rest of the batch goes on. Configuration errors still stop."""
        try:
            return self.enrich_batch(posts, directory)
        except EcouteError:
            raise
        except Exception as exc:  # one bad post must not stop the source: find it
            log.warning("enrichment failed for a batch of %d, trying each post: %r", len(posts), exc)
        mentions, failed = [], []
        for post in posts:
            try:
                mentions += self.enrich_batch([post], directory)
            except EcouteError:
                raise
            except Exception as exc:
                reason = storable(f"{NOT_ENRICHED}: {type(exc).__name__}: {exc}")[:500]
                failed += [(m, reason) for m in self.pseudonymised([unenriched(post)])]
        self.dead_letters.add([(m.id, m.source, why, m.model_dump(mode="json")) for m, why in failed])
        if report is not None:
            report.failed += [f"{m.id}: {why}" for m, why in failed]
        return mentions

    def enrich_batch(self, posts: list[RawPost], directory: CustomerDirectory) -> list[Mention]:
        """One batch through the models, routed and pseudonymised; any failure is raised."""
        mentions = enrich(
            posts,
            directory,
            self.brand,
            with_entities=self.nlp.entities,
            batch_size=self.nlp.batch_size,
            classifier=self.classifier(),
            deduplicator=self.deduplicator,
        )
        return self.routed(self.pseudonymised(mentions), directory)

    def routed(self, mentions: list[Mention], directory: CustomerDirectory) -> list[Mention]:
        """New mentions placed in their team queue or with their person by the routing rules (once, at
        ingest: a stored mention is never written again by collection, so it is never re-routed)."""
        rules = self.routing.rules
        if not rules:
            return mentions
        now = datetime.now(UTC).replace(microsecond=0)
        customers = directory.by_id
        return [routed(m, route(m, customers.get(m.customer_id or ""), rules), now) for m in mentions]

    def pseudonymised(self, mentions: list[Mention]) -> list[Mention]:
        """Authors replaced by their pseudonyms where the privacy block asks for it."""
        return pseudonymise(mentions, self.privacy, self.pseudonym_key)

    def enriched_again(self, reason: str, mention: Mention, directory: CustomerDirectory) -> Mention:
        """A mention dead-lettered because enriching it failed is enriched again from its post (a fixed
        model or a new release may read it now); if that still fails, its placeholder labels are kept
        and the accurate model's re-scoring gives it labels later."""
        if not reason.startswith(NOT_ENRICHED):
            return mention
        post = RawPost(
            **mention.model_dump(include=set(RawPost.model_fields) - {"language_hint", "created_at"}),
            created_at=mention.published_claimed or mention.created_at,  # dated again, flagged again
            dated="undated" not in mention.flags,
            language_hint=mention.language if mention.language != "other" else None,
        )
        try:
            return self.enrich_batch([post], directory)[0]
        except EcouteError:
            raise
        except Exception as exc:
            log.warning("dead letter %s still cannot be enriched: %r", mention.id, exc)
            return mention
