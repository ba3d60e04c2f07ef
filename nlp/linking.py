"""Customer linking v1: exact match of the author's handle or an email in the text."""

from __future__ import annotations

from collections.abc import Iterable

from collectors.base import RawPost
from index.documents import Customer, CustomerLink
from nlp.language import NormalisedText


def normalise_handle(handle: str) -> str:
    """Handles compare without a leading @ and without case."""
    return handle.strip().lstrip("@").lower()


class CustomerDirectory:
    """In-memory lookup of CRM contacts by handle and email, rebuilt after each CRM import."""

    def __init__(self, customers: Iterable[Customer] = ()) -> None:
        self.by_handle: dict[str, Customer] = {}
        self.by_email: dict[str, Customer] = {}
        self.by_id: dict[str, Customer] = {}
        for customer in customers:
            self.by_id[customer.customer_id] = customer
            for handle in customer.handles:
                self.by_handle.setdefault(normalise_handle(handle), customer)
            if customer.email:
                self.by_email.setdefault(customer.email.lower(), customer)

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
            )
    for email in text.emails:
        customer = directory.by_email.get(email)
        if customer:
            return CustomerLink(
                customer_id=customer.customer_id,
                method="email",
                confidence=0.9,
                reason=f"email {email} in the post is on record for {_who(customer)}",
            )
    return None


def _who(customer: Customer) -> str:
    return f"{customer.full_name}, {customer.company}" if customer.company else customer.full_name
