"""Fuzzy customer linking: person + company names with a confidence and a reason a person can check."""

from __future__ import annotations

from datetime import UTC, datetime

from core.documents import Author, Entity, RawPost
from core.names import author_key
from nlp.language import normalise
from nlp.linking import CustomerDirectory, LinkSettings, resolve_customer
from tests.factories import make_customer

JULIE = make_customer(
    "C1",
    first_name="Julie",
    last_name="Martin",
    full_name="Julie Martin",
    company="Boulangerie Martin",
    handles=[],
)
MARC = make_customer(
    "C2", first_name="Marc", last_name="Petit", full_name="Marc Petit", company="Garage Petit", handles=[]
)


def post(display: str, text: str, handle: str = "jm74@mastodon.example") -> RawPost:
    return RawPost(
        source="test",
        platform="mastodon",
        native_id=f"{display}-{len(text)}",
        author=Author(handle=handle, display_name=display),
        text=text,
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def resolve(p: RawPost, directory: CustomerDirectory, entities: list[Entity] | None = None):
    return resolve_customer(p, normalise(p.text), entities or [], directory)


def test_name_and_company_together_are_enough_to_apply_the_link():
    link, proposal = resolve(
        post("Julie Martin 🥖", "Internet coupé à la Boulangerie Martin depuis ce matin, merci Lumio"),
        CustomerDirectory([JULIE, MARC]),
    )
    assert proposal is None and link is not None
    assert (link.customer_id, link.method, link.confidence) == ("C1", "fuzzy", 0.97)
    assert link.reason == (
        "author name “julie martin” matches Julie Martin (100%); "
        "the post names the company “Boulangerie Martin”: Julie Martin, Boulangerie Martin"
    )
    assert [(f.kind, f.values) for f in link.facts] == [
        ("name", {"said": "julie martin", "name": "Julie Martin", "score": "1.0000"}),
        ("company_named", {"company": "Boulangerie Martin"}),
    ]  # what the dashboard says in the reader's language


def test_a_name_alone_is_proposed_for_review_not_applied():
    link, proposal = resolve(
        post("Julie Martin", "Ma box Lumio clignote encore."), CustomerDirectory([JULIE, MARC])
    )
    assert link is None and proposal is not None
    assert (proposal.customer_id, proposal.confidence) == ("C1", 0.8)
    assert proposal.reason.startswith("author name “julie martin” matches Julie Martin (100%)")


def test_a_company_named_as_an_organisation_entity_counts_as_evidence():
    link, _ = resolve(
        post("Julie Martin", "Chez nous, la fibre ne marche plus."),
        CustomerDirectory([JULIE]),
        entities=[Entity(text="boulangerie MARTIN", label="organisation")],
    )
    assert link is not None and "organisation “boulangerie MARTIN” in the post" in link.reason


def test_a_typo_in_the_name_lowers_the_confidence():
    _, proposal = resolve(post("Jullie Martin", "Ma box Lumio clignote."), CustomerDirectory([JULIE]))
    assert proposal is not None and proposal.customer_id == "C1" and 0.6 <= proposal.confidence < 0.8


def test_two_customers_with_the_same_name_make_the_match_weaker_and_say_so():
    twin = make_customer("C3", first_name="Julie", last_name="Martin", full_name="Julie Martin", company=None)
    _, proposal = resolve(post("Julie Martin", "Ma box Lumio clignote."), CustomerDirectory([JULIE, twin]))
    assert proposal is not None and proposal.confidence == 0.6
    assert "1 other customer(s) have the same name" in proposal.reason


def test_another_person_with_a_close_name_is_not_proposed():
    assert resolve(post("Julien Marchand", "Lumio est top."), CustomerDirectory([JULIE])) == (None, None)
    assert resolve(post("Julie R.", "Lumio est top."), CustomerDirectory([JULIE])) == (None, None)


def test_a_rejected_pair_is_never_proposed_again():
    p = post("Julie Martin", "Ma box Lumio clignote.")
    directory = CustomerDirectory([JULIE], rejected={(author_key("mastodon", "jm74@mastodon.example"), "C1")})
    assert resolve(p, directory) == (None, None)


def test_thresholds_come_from_the_settings():
    strict = CustomerDirectory([JULIE], settings=LinkSettings(apply_above=0.99, review_above=0.9))
    assert resolve(post("Julie Martin", "Ma box Lumio clignote."), strict) == (None, None)


def test_an_exact_handle_wins_over_any_name():
    customer = make_customer("C9", handles=["jm74@mastodon.example"], full_name="Someone Else")
    link, proposal = resolve(post("Julie Martin", "Lumio"), CustomerDirectory([JULIE, customer]))
    assert proposal is None and link is not None and (link.customer_id, link.method) == ("C9", "handle")


def test_a_link_to_the_customers_own_domain_strengthens_a_name_match():
    julie = make_customer(
        "C1", first_name="Julie", last_name="Martin", full_name="Julie Martin", company=None, handles=[],
        email="julie@boulangerie-martin.example",
    )  # fmt: skip
    directory = CustomerDirectory([julie])
    text = "Notre site est en panne depuis la coupure Lumio"
    _, plain = resolve(post("Julie Martin", text), directory)
    _, linked = resolve(
        post("Julie Martin", f"{text} https://www.boulangerie-martin.example/horaires"), directory
    )
    assert plain is not None and linked is not None
    assert linked.confidence == round(plain.confidence + 0.1, 2)
    assert "links to boulangerie-martin.example" in linked.reason
    _, free_mail = resolve(
        post("Julie Martin", f"{text} https://gmail.com/x"),
        CustomerDirectory([julie.model_copy(update={"email": "julie@gmail.com"})]),
    )
    assert free_mail is not None and free_mail.confidence == plain.confidence
