"""Normalise what a CRM record holds (emails, phones, handles) and name each problem; pure functions.

A record with a problem is kept, with the problem listed beside it: only rows that cannot become a
record at all (no id, unreadable value, duplicate id) are rejected.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.documents import Customer, QualityIssue, SocialHandle
from crm.base import AccountRecord, ContactRecord

# What a handle looks like on each network, once the leading @ and the profile URL are taken off.
HANDLE_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "mastodon": (re.compile(r"^[a-z0-9_][a-z0-9_.\-]*@[a-z0-9\-]+(\.[a-z0-9\-]+)+$"), "user@server.tld"),
    "bluesky": (
        re.compile(r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)+$"),
        "name.domain",
    ),
    "reddit": (re.compile(r"^[a-z0-9_\-]{3,20}$"), "3-20 letters, digits, _ or -"),
    "x": (re.compile(r"^[a-z0-9_]{1,15}$"), "1-15 letters, digits or _"),
    "instagram": (re.compile(r"^[a-z0-9_.]{1,30}$"), "1-30 letters, digits, _ or ."),
    "linkedin": (re.compile(r"^[a-z0-9\-]{3,100}$"), "the profile slug, 3-100 letters, digits or -"),
}
_PROFILE_URLS = [
    (re.compile(r"^https?://([^/]+)/@([^/?#]+)/?$", re.I), lambda m: f"{m[2]}@{m[1]}"),  # mastodon
    (re.compile(r"^https?://bsky\.app/profile/([^/?#]+)/?$", re.I), lambda m: m[1]),
    (re.compile(r"^https?://(?:www\.|old\.)?reddit\.com/u(?:ser)?/([^/?#]+)/?$", re.I), lambda m: m[1]),
    (re.compile(r"^https?://(?:www\.)?(?:x|twitter)\.com/([^/?#]+)/?$", re.I), lambda m: m[1]),
    (re.compile(r"^https?://(?:www\.)?instagram\.com/([^/?#]+)/?$", re.I), lambda m: m[1]),
    (re.compile(r"^https?://(?:[a-z]+\.)?linkedin\.com/in/([^/?#]+)/?$", re.I), lambda m: m[1]),
]


_PLAIN_EMAIL = re.compile(r"^[a-z0-9_%+\-]+(\.[a-z0-9_%+\-]+)*@([a-z0-9\-]+(\.[a-z0-9\-]+)+)$")


@lru_cache(maxsize=65536)
def _domain_ok(domain: str) -> bool:
    try:
        validate_email(f"x@{domain}", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True


def normalise_email(raw: str) -> tuple[str, QualityIssue | None]:
    """Lower-cased, normalised address, or the raw one with the reason it is not valid."""
    plain = _PLAIN_EMAIL.match(raw.strip().lower())
    if plain and _domain_ok(plain[2]):  # the common case, with each domain checked once by email-validator
        return plain[0], None
    try:
        # test_environment: addresses under .test are accepted (the sample CRM uses them); no DNS lookups.
        return validate_email(raw, check_deliverability=False, test_environment=True).normalized.lower(), None
    except EmailNotValidError as exc:
        return raw.strip().lower(), QualityIssue(
            kind="invalid_email", detail=f"email {raw!r}: {exc}", value=raw
        )


def normalise_phone(raw: str, region: str) -> tuple[str, QualityIssue | None]:
    """E.164 (+33612345678) when the number is possible; `region` is the country of numbers without +."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        return raw.strip(), QualityIssue(kind="invalid_phone", detail=f"phone {raw!r}: {exc._msg}", value=raw)
    if not phonenumbers.is_possible_number(number):
        return raw.strip(), QualityIssue(
            kind="invalid_phone", detail=f"phone {raw!r}: not a possible number", value=raw
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def normalise_network_handle(network: str, raw: str) -> tuple[str, QualityIssue | None]:
    """The handle as mentions carry it (no @, lower case; a profile URL becomes its handle)."""
    value = raw.strip()
    for pattern, extract in _PROFILE_URLS:
        match = pattern.match(value)
        if match:
            value = extract(match)
            break
    value = value.lstrip("@").lower()
    if network == "reddit":
        value = value.removeprefix("u/")
    shape = HANDLE_FORMATS.get(network)
    if shape and not shape[0].match(value):
        return value, QualityIssue(
            kind="bad_handle",
            detail=f"{network} handle {raw!r} is not in the form {shape[1]}",
            value=raw,
            network=network,
        )
    return value, None


def customer_from(
    contact: ContactRecord, account: AccountRecord | None, source: str, region: str, now: datetime
) -> Customer:
    """The customer document for one contact; account fields come from its account when it has one."""
    issues: list[QualityIssue] = []
    emails: list[str] = []
    for raw in contact.emails:
        email, issue = normalise_email(raw)
        emails.append(email)
        issues += [issue] if issue else []
    phones: list[str] = []
    for raw in contact.phones:
        phone, issue = normalise_phone(raw, region)
        phones.append(phone)
        issues += [issue] if issue else []
    profiles: list[SocialHandle] = []
    for network, raw in contact.handles.items():
        handle, issue = normalise_network_handle(network, raw)
        profiles.append(SocialHandle(network=network, handle=handle))
        issues += [issue] if issue else []
    company = (account.company if account else None) or contact.company
    owner_name = (account.owner_name if account else None) or contact.owner_name
    owner_email = (account.owner_email if account else None) or contact.owner_email
    if owner_email:
        owner_email, issue = normalise_email(owner_email)
        issues += [issue] if issue else []
    if not owner_email:
        issues.append(
            QualityIssue(kind="missing_owner", detail="no account owner: alerts go to the rule's recipients")
        )
    names = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return Customer(
        customer_id=contact.customer_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        full_name=contact.full_name or names or company or (emails[0] if emails else contact.customer_id),
        company=company,
        email=emails[0] if emails else None,
        phone=phones[0] if phones else None,
        handles=list(dict.fromkeys(p.handle for p in profiles)),
        segment=(account.segment if account else None) or contact.segment,
        account_value=(account.value if account and account.value is not None else contact.account_value),
        owner_name=owner_name,
        owner_email=owner_email,
        language=contact.language,
        updated_at=contact.updated_at or now,
        source=source,
        account_id=contact.account_id,
        emails=emails,
        phones=phones,
        profiles=profiles,
        quality=issues,
    )
