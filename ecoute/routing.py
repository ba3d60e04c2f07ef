"""Routing: which team queue or person a new mention lands with, from the `routing:` rules (no I/O).

Rules are tried in order and the first that matches wins. A mention is routed once, when it is first
enriched and linked, before it is indexed (no extra write); re-collection never writes a stored mention
again and re-scoring only rewrites its labels, so neither moves a mention, triaged or not, even when
the accurate model later gives it another intent. From then on only people move it (a hand-off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.settings import Intent, Sentiment
from core.documents import Customer, Mention, Triage, TriageChange

ROUTED_BY = "routing:"
"""How the history names a change made by a rule: `routing:<rule name>`."""
NAME = r"^[a-z0-9][a-z0-9_\-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamConfig(Strict):
    """A team queue: who works it (dashboard users' emails)."""

    members: list[str] = Field(default_factory=list)
    description: str = ""


class RouteWhen(Strict):
    """Every condition that is set must hold; an empty `when` matches every mention."""

    intents: list[Intent] = Field(default_factory=list)
    sentiment: list[Sentiment] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list, description="CRM segment of the linked customer")
    linked_customer: bool | None = None
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0, description="of the intent")


class RouteTo(Strict):
    """Where a matching mention goes: a team, a person, or the linked customer's account owner.

    `owner: true` with a `team` assigns the owner when the customer has one and puts the mention in the
    team's queue either way; `owner: true` alone skips the rule when there is no owner.
    """

    team: str | None = None
    person: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    owner: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> RouteTo:
        if self.person and self.owner:
            raise ValueError("set person or owner, not both")
        if not (self.team or self.person or self.owner):
            raise ValueError("set team, person or owner: true")
        return self


class RoutingRule(Strict):
    name: str = Field(pattern=NAME)
    when: RouteWhen = Field(default_factory=RouteWhen)
    to: RouteTo


class RoutingConfig(Strict):
    """The `routing:` block: team queues and the ordered rules (first match wins)."""

    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    rules: list[RoutingRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_teams(self) -> RoutingConfig:
        for team in self.teams:
            if not _valid_name(team):
                raise ValueError(f"team name {team!r}: use lower-case letters, digits, - and _")
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"duplicate rule name {twice[0]!r}")
        for rule in self.rules:
            if rule.to.team and rule.to.team not in self.teams:
                known = ", ".join(sorted(self.teams)) or "none"
                raise ValueError(
                    f"rule {rule.name!r} sends to unknown team {rule.to.team!r} (teams: {known})"
                )
        return self


def _valid_name(name: str) -> bool:
    return re.fullmatch(NAME, name) is not None


@dataclass(frozen=True)
class Routing:
    """Where one rule sends one mention."""

    team: str | None
    assignee: str | None
    rule: str


def matches(when: RouteWhen, mention: Mention, customer: Customer | None) -> bool:
    """Whether every condition of `when` holds for this mention (and its linked customer)."""
    if when.intents and not (
        mention.intent.label in when.intents and mention.intent.confidence >= when.min_confidence
    ):
        return False
    if when.sentiment and mention.sentiment.label not in when.sentiment:
        return False
    if when.sources and mention.source not in when.sources:
        return False
    if when.languages and mention.language not in when.languages:
        return False
    if when.linked_customer is not None and (mention.customer_id is not None) != when.linked_customer:
        return False
    return not when.segments or (customer is not None and customer.segment in when.segments)


def route(mention: Mention, customer: Customer | None, rules: list[RoutingRule]) -> Routing | None:
    """The first rule that matches and can send the mention somewhere; None: it stays unassigned."""
    for rule in rules:
        if not matches(rule.when, mention, customer):
            continue
        to = rule.to
        owner = customer.owner_email if to.owner and customer is not None else None
        assignee = to.person or owner
        if to.owner and not owner and not to.team:
            continue  # "the account owner" with no owner known: the next rule decides
        return Routing(team=to.team, assignee=assignee, rule=rule.name)
    return None


def routed(mention: Mention, routing: Routing | None, now: datetime) -> Mention:
    """The mention placed in its queue, the change recorded in its history as by `routing:<rule>`.

    A mention that already has a triage or a history (people touched it) is returned unchanged.
    """
    if routing is None or mention.triage is not None or mention.history:
        return mention
    by = f"{ROUTED_BY}{routing.rule}"
    history = [
        TriageChange(at=now, by=by, field=name, old=None, new=value)
        for name, value in (("team", routing.team), ("assignee", routing.assignee))
        if value
    ]
    triage = Triage(team=routing.team, assignee=routing.assignee, updated_by=by, updated_at=now)
    return mention.model_copy(update={"triage": triage, "history": history})


def team_of(member: str, config: RoutingConfig) -> list[str]:
    """The teams a person belongs to."""
    return [name for name, team in config.teams.items() if member in team.members]
