"""A sales person's view of an account they share: the CRM records of their own customers and, when the
account is theirs, of the account itself; another owner's customers' records left out and counted."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from core.documents import CrmRecord
from index.client import IndexNames
from index.crm import CRM_RECORDS, mirror_customers, put_crm_records, records_of_customer
from index.customers import get_customer, owner_scope
from tests.factories import NOW, make_customer

SOURCE, ACCOUNT = "crm-lumio", "ACC-1"
MINE, THEIRS = "C-ACC-MINE", "C-ACC-THEIRS"
# (kind, native id, whose record: a customer id or None for the account's own)
RECORDS = [
    ("opportunity", "Fibre pro pour Julie", MINE),
    ("opportunity", "Renouvellement de Marc", THEIRS),
    ("opportunity", "Contrat cadre du compte", None),
    ("interaction", "Appel de Julie", MINE),
    ("interaction", "Ticket de Marc", THEIRS),
    ("interaction", "Visite du compte", None),
]


def shared_account(
    es: Elasticsearch, names: IndexNames, mine: str, theirs: str, account_owner: str | None
) -> None:
    """One account, Julie's contact owned by `mine`, Marc's by `theirs`, each with a deal and a ticket,
    and the account's own deal and visit."""
    on_account = {"source": SOURCE, "account_id": ACCOUNT, "company": "Boulangerie Martin"}
    mirror_customers(
        es,
        names,
        [
            make_customer(MINE, full_name="Julie Martin", owner_email=mine, **on_account),
            make_customer(THEIRS, full_name="Marc Martin", owner_email=theirs, **on_account),
        ],
    )
    account = CrmRecord(
        id=f"{SOURCE}-account", kind="account", source=SOURCE, native_id=ACCOUNT, account_id=ACCOUNT,
        title="Boulangerie Martin", owner_email=account_owner, updated_at=NOW,
    )  # fmt: skip
    records = [
        CrmRecord(
            id=f"{SOURCE}-{kind}-{title}", kind=kind, source=SOURCE, native_id=title, account_id=ACCOUNT,
            customer_id=whose, title=title, is_open=True if kind == "opportunity" else None,
            occurred_at=NOW, updated_at=NOW,
        )
        for kind, title, whose in RECORDS
    ]  # fmt: skip
    put_crm_records(es, names, [account, *records])
    es.indices.refresh(index=CRM_RECORDS.alias(names))


def titles(records: list[CrmRecord]) -> set[str]:
    return {r.title or "" for r in records}


SALES, COLLEAGUE = "sarah.whitfield@lumio.example", "paul.leroy@lumio.example"


def julie_as_seen_by(es: Elasticsearch, names: IndexNames, owner: str | None):
    """Julie's records as `owner` (a sales person) reads them, or as every other role does (None)."""
    scope = owner_scope(es, names, owner) if owner else None
    julie = get_customer(es, names, MINE, scope=scope)
    assert julie is not None
    return records_of_customer(es, names, julie, scope=scope)


def test_a_sales_person_reads_their_customers_and_their_accounts_records_and_not_a_colleagues(
    es: Elasticsearch, names: IndexNames
):
    shared_account(es, names, mine=SALES, theirs=COLLEAGUE, account_owner=SALES)

    seen = julie_as_seen_by(es, names, SALES)

    assert titles(seen.opportunities) == {"Fibre pro pour Julie", "Contrat cadre du compte"}
    assert titles(seen.interactions) == {"Appel de Julie", "Visite du compte"}
    assert seen.account is not None and seen.account.title == "Boulangerie Martin"
    assert seen.withheld == 2  # Marc's deal and ticket
    everything = julie_as_seen_by(es, names, None)  # other roles read the whole account, as before
    assert titles(everything.opportunities) == {title for kind, title, _ in RECORDS if kind == "opportunity"}
    assert titles(everything.interactions) == {title for kind, title, _ in RECORDS if kind == "interaction"}
    assert everything.withheld == 0


def test_an_account_another_person_owns_keeps_its_own_records_from_a_sales_person_with_a_contact_there(
    es: Elasticsearch, names: IndexNames
):
    shared_account(es, names, mine=SALES, theirs=COLLEAGUE, account_owner=COLLEAGUE)

    seen = julie_as_seen_by(es, names, SALES)

    assert titles(seen.opportunities) == {"Fibre pro pour Julie"}
    assert titles(seen.interactions) == {"Appel de Julie"}
    assert seen.account is None
    assert seen.withheld == 5  # Marc's two, the account's deal and visit, the account itself
    colleague = owner_scope(es, names, COLLEAGUE)  # who owns the account reads its records, not Julie's
    marc = get_customer(es, names, THEIRS, scope=colleague)
    assert marc is not None
    theirs = records_of_customer(es, names, marc, scope=colleague)
    assert titles(theirs.opportunities) == {"Renouvellement de Marc", "Contrat cadre du compte"}
    assert theirs.withheld == 2


def test_the_records_of_an_account_naming_no_owner_follow_the_customer_viewed(
    es: Elasticsearch, names: IndexNames
):
    shared_account(es, names, mine=SALES, theirs=COLLEAGUE, account_owner=None)

    seen = julie_as_seen_by(es, names, SALES)

    assert titles(seen.opportunities) == {"Fibre pro pour Julie", "Contrat cadre du compte"}
    assert titles(seen.interactions) == {"Appel de Julie", "Visite du compte"}
    assert seen.withheld == 2
