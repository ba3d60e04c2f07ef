"""Customer linking: exact handle/email first, then fuzzy person + company name, always with a reason.

A fuzzy match at or above `apply_above` is applied; from `review_above` it is only proposed, for a
person to confirm or reject in the review queue. Decisions come back through the directory: a confirmed
handle links exactly from then on, a rejected (author, customer) pair is never proposed again. Linking
never creates a CRM record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from core.documents import Customer, CustomerLink, Entity, LinkFact, RawPost
from core.names import author_key, fold_name, normalise_handle
from nlp.language import NormalisedText

FREE_MAIL = {"gmail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr", "outlook.com", "orange.fr",
             "free.fr", "laposte.net", "icloud.com", "protonmail.com", "wanadoo.fr", "sfr.fr"}  # fmt: skip


@dataclass
class LinkSettings:
    apply_above: float = 0.95
    review_above: float = 0.6


class CustomerDirectory:
    """In-memory lookup of CRM contacts by handle, email and name, rebuilt after each CRM import.

    `rejected` holds the (author key, customer id) pairs a person refused in the review queue.
    """

    def __init__(
        self,
        customers: Iterable[Customer] = (),
        rejected: Iterable[tuple[str, str]] = (),
        settings: LinkSettings | None = None,
    ) -> None:
        self.by_handle: dict[str, Customer] = {}
        self.by_confirmed: dict[str, Customer] = {}
        self.by_email: dict[str, Customer] = {}
        self.by_id: dict[str, Customer] = {}
        self.by_name_token: dict[str, list[Customer]] = defaultdict(list)
        self.rejected = set(rejected)
        self.settings = settings or LinkSettings()
        for customer in customers:
            self.by_id[customer.customer_id] = customer
            for handle in customer.handles:
                self.by_handle.setdefault(normalise_handle(handle), customer)
            for handle in customer.confirmed_handles:
                self.by_confirmed.setdefault(normalise_handle(handle), customer)
            for email in {customer.email, *customer.emails} - {None}:
                self.by_email.setdefault(email.lower(), customer)  # type: ignore[union-attr]
            names = [customer.first_name or "", customer.last_name or ""]
            if all(names):  # only people: a company alone is not a person to match an author against
                folded = fold_name(" ".join(names))
                for token in set(folded.split()):
                    if len(token) >= 3:
                        self.by_name_token[token].append(customer)

    def __len__(self) -> int:
        return len(self.by_id)


def link_customer(post: RawPost, text: NormalisedText, directory: CustomerDirectory) -> CustomerLink | None:
    """The customer who wrote the post, with the evidence; None when nothing matches exactly."""
    if post.author.handle:
        handle = normalise_handle(post.author.handle)
        customer = directory.by_handle.get(handle)
        if customer:
            return CustomerLink(
                customer_id=customer.customer_id,
                method="handle",
                confidence=1.0,
                reason=f"handle @{handle} is on record for {_who(customer)}",
                facts=[LinkFact(kind="handle", values={"handle": handle, "customer": _who(customer)})],
            )
        customer = directory.by_confirmed.get(handle)
        if customer:
            return CustomerLink(
                customer_id=customer.customer_id,
                method="confirmed",
                confidence=1.0,
                reason=f"handle @{handle} was confirmed as {_who(customer)} in the review queue",
                facts=[
                    LinkFact(kind="confirmed_handle", values={"handle": handle, "customer": _who(customer)})
                ],
            )
    for email in text.emails:
        customer = directory.by_email.get(email)
        if customer:
            return CustomerLink(
                customer_id=customer.customer_id,
                method="email",
                confidence=0.9,
                reason=f"email {email} in the post is on record for {_who(customer)}",
                facts=[LinkFact(kind="email", values={"email": email, "customer": _who(customer)})],
            )
    return None


def _company_named(customer: Customer, text: str, entities: list[Entity]) -> tuple[str, LinkFact] | None:
    """How the post names the customer's company, if it does: in English and as a fact."""
    if not customer.company:
        return None
    company = fold_name(customer.company)
    if len(company) < 4:
        return None
    for entity in entities:
        if entity.label == "organisation" and fuzz.token_set_ratio(company, fold_name(entity.text)) >= 90:
            return (
                f"organisation “{entity.text}” in the post is the customer's company",
                LinkFact(kind="company_entity", values={"company": entity.text}),
            )
    if fuzz.partial_ratio(company, fold_name(text)) >= 92:
        return (
            f"the post names the company “{customer.company}”",
            LinkFact(kind="company_named", values={"company": customer.company}),
        )
    return None


def _name_score(customer: Customer, said: str) -> float:
    """How well an author's name matches the customer's first and last names, both required.

    A typo scores a little less than an exact name; a last-name initial ("Julie M.") counts half.
    """
    first, last = fold_name(customer.first_name or ""), fold_name(customer.last_name or "")
    tokens = said.split()
    if not first or not last or not tokens:
        return 0.0
    first_sim = max(fuzz.ratio(first, tok) for tok in tokens) / 100
    last_sim = max(fuzz.ratio(last, tok) for tok in tokens) / 100
    if any(len(tok) == 1 and tok == last[0] for tok in tokens):
        last_sim = max(last_sim, 0.5)
    if first_sim < 0.85 or last_sim < 0.5:
        return 0.0
    return (first_sim + last_sim) / 2


def fuzzy_link(
    post: RawPost, text: NormalisedText, entities: list[Entity], directory: CustomerDirectory
) -> CustomerLink | None:
    """The best name (+ company) match for the post's author, with its confidence and reason."""
    if not post.author.display_name and not post.author.handle:
        return None
    shown = post.author.display_name or ""
    candidates_text = [fold_name(shown)]
    if post.author.handle:  # julie_martin@… or julie.martin -> "julie martin"
        candidates_text.append(fold_name(normalise_handle(post.author.handle).split("@")[0]))
    key = author_key(post.platform, post.author.handle or shown)
    tokens = {tok for name in candidates_text for tok in name.split() if len(tok) >= 3}
    candidates = {c.customer_id: c for tok in tokens for c in directory.by_name_token.get(tok, [])}
    scored: list[tuple[float, str, Customer]] = []
    for customer in candidates.values():
        if (key, customer.customer_id) in directory.rejected:
            continue
        best = max((_name_score(customer, n), n) for n in candidates_text if n)
        if best[0] >= 0.75:
            scored.append((best[0], best[1], customer))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[2].customer_id))
    score, said, customer = scored[0]
    evidence = [f"author name “{said}” matches {customer.full_name} ({score:.0%})"]
    named = {"said": said, "name": customer.full_name, "score": f"{score:.4f}"}
    facts = [LinkFact(kind="name", values=named)]
    confidence = 0.8 * score
    company = _company_named(customer, text.text, entities)
    if company:
        evidence.append(company[0])
        facts.append(company[1])
        confidence += 0.17
    own_domain = (customer.email or "@").split("@")[1]
    if own_domain and own_domain not in FREE_MAIL:
        if own_domain in {e.split("@")[1] for e in text.emails}:
            evidence.append(f"an address at {own_domain} is in the post")
            facts.append(LinkFact(kind="email_domain", values={"domain": own_domain}))
            confidence += 0.1
        elif own_domain in {_domain(u) for u in text.urls}:
            evidence.append(f"the post links to {own_domain}, the domain of the customer's email")
            facts.append(LinkFact(kind="link_domain", values={"domain": own_domain}))
            confidence += 0.1
    rivals = [c for s, _, c in scored[1:] if s >= score - 0.02]
    if rivals:
        evidence.append(f"{len(rivals)} other customer(s) have the same name")
        facts.append(LinkFact(kind="rivals", values={"n": str(len(rivals))}))
        confidence *= 0.75
    confidence = round(min(confidence, 0.99), 2)
    if confidence < directory.settings.review_above:
        return None
    return CustomerLink(
        customer_id=customer.customer_id,
        method="fuzzy",
        confidence=confidence,
        reason=f"{'; '.join(evidence)}: {_who(customer)}",
        facts=facts,
    )


def resolve_customer(
    post: RawPost, text: NormalisedText, entities: list[Entity], directory: CustomerDirectory
) -> tuple[CustomerLink | None, CustomerLink | None]:
    """(applied link, proposal for review): exact evidence applies, a fuzzy match applies only when sure."""
    exact = link_customer(post, text, directory)
    if exact:
        return exact, None
    fuzzy = fuzzy_link(post, text, entities, directory)
    if fuzzy is None:
        return None, None
    if fuzzy.confidence >= directory.settings.apply_above:
        return fuzzy, None
    return None, fuzzy


def _domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _who(customer: Customer) -> str:
    return f"{customer.full_name}, {customer.company}" if customer.company else customer.full_name
