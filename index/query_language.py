"""The one search language of Écoute: the Inbox search, saved searches, exports and alert rules.

Keywords with AND / OR / NOT, "quoted phrases", prefix* and wild*cards, NEAR/n and field:value.
A query is parsed once into a small tree that keeps the position of each part, so a mistake is reported
at the character where it is. The tree is then either compiled to Elasticsearch query DSL (a search, a
percolator) or evaluated directly on a mention by the portable matcher; both read the same words the
same way, so they agree.

    "service client" AND (panne OR coupure) NOT résolu
    lumio NEAR/3 résilier          at most 3 words between, either order
    rembours*                      any word starting with "rembours"
    r*boursement                   * stands for any letters, anywhere in a word
    source:mastodon sentiment:negative   a field of the mention (FIELDS: source, lang, author,
                                   sentiment, intent, customer, hashtag), exactly; author:jean* a prefix

Operators are upper case (lower-case "and" is a word); words next to each other mean AND. Case does
not matter, accents do (as in Elasticsearch's standard analyzer): write `zéphyr OR zephyr`. Words
are never stemmed: "Vienne" does not find "viens".

Pure (no I/O): index/ compiles it to query DSL, alerts/ evaluates it on mentions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

from core.errors import EcouteError
from core.text import words

SEARCHED_FIELDS = ("title", "text")
"""Matched with the `standard` analyzer of each field: lower case, Unicode word boundaries, accents kept."""

FIELDS = {
    "source": "source",
    "lang": "language",
    "author": "author.handle",
    "sentiment": "sentiment.label",
    "intent": "intent.label",
    "customer": "customer_id",
    "hashtag": "hashtags",
}
"""The mention fields `name:value` may search, and the keyword field each reads in the index."""
SENTIMENT_VALUES = ("positive", "neutral", "negative")

DEFAULT_NEAR = 5
MAX_NEAR = 50
MAX_NESTING = 20
"""Parentheses inside parentheses a rule may hold: the parser recurses once per level."""

# Elasticsearch's standard tokenizer follows Unicode word boundaries (UAX #29): letters stay joined
# across . ' ’ : ·, digits across . , ;, and each emoji is a word of its own.


class QuerySyntaxError(EcouteError):
    """A query that cannot be read; `position` is the 0-based character where the problem is, `code`
    and `params` say what it is in a way an interface can translate (dashboard text `query_error_<code>`).
    """

    def __init__(
        self, position: int, message: str, query: str = "", code: str = "invalid", **params: object
    ) -> None:
        self.position, self.message, self.query = position, message, query
        self.code, self.params = code, {k: str(v) for k, v in params.items()}
        super().__init__(f"query: {message} at character {position + 1}")

    def pointer(self) -> str:
        """The query with a caret under the problem, for a terminal or a code block."""
        return f"{self.query}\n{' ' * self.position}^"


# ---- the tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """One word or a quoted phrase: its words, in order, next to each other."""

    words: tuple[str, ...]
    position: int


@dataclass(frozen=True)
class Prefix:
    """Any word starting with `stem`."""

    stem: str
    position: int


@dataclass(frozen=True)
class Wildcard:
    """One word matching `pattern`, where each * stands for any letters or digits (none included)."""

    pattern: str
    position: int


@dataclass(frozen=True)
class FieldValue:
    """A mention whose field `name` (one of FIELDS) is `value` exactly (case ignored), or starts with it."""

    name: str
    value: str
    prefix: bool
    position: int


@dataclass(frozen=True)
class Near:
    """Two words or phrases with at most `distance` words between them, in either order."""

    left: Phrase
    right: Phrase
    distance: int
    position: int


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node
    position: int


Node = Phrase | Prefix | Wildcard | FieldValue | Near | And | Or | Not


# ---- the parser ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD, PHRASE, PREFIX, WILDCARD, FIELD, AND, OR, NOT, NEAR, LPAREN, RPAREN, END
    text: str
    position: int
    distance: int = 0
    field: str = ""


_OPERATORS = {"AND", "OR", "NOT"}
_QUOTES = '"“”«»'
_CLOSING_QUOTES = {'"': '"”', "“": '”"', "”": '”"', "«": "»", "»": "«"}
_NEAR = regex.compile(r"NEAR(?:/(\S*))?")
_FIELD = regex.compile(r"([a-z]+):(.*)", regex.S)


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token("LPAREN" if char == "(" else "RPAREN", char, i))
            i += 1
        elif char in _QUOTES:
            text, i = _quoted(query, i)
            tokens.append(_Token("PHRASE", text, i - len(text) - 2))
        else:
            start = i
            while i < len(query) and not query[i].isspace() and query[i] not in "()" + _QUOTES:
                i += 1
            text = query[start:i]
            near = _NEAR.fullmatch(text)
            field = _FIELD.fullmatch(text)
            if text in _OPERATORS:
                tokens.append(_Token(text, text, start))
            elif near:
                tokens.append(_Token("NEAR", text, start, _near_distance(near.group(1), start, query)))
            elif field and field.group(1) in FIELDS:
                value = field.group(2)
                if not value and i < len(query) and query[i] in _QUOTES:
                    value, i = _quoted(query, i)
                tokens.append(_Token("FIELD", value, start, field=field.group(1)))
            elif "*" in text.rstrip("*") or text.count("*") > 1:
                tokens.append(_Token("WILDCARD", text, start))
            elif text.endswith("*"):
                tokens.append(_Token("PREFIX", text[:-1], start))
            else:
                tokens.append(_Token("WORD", text, start))
    tokens.append(_Token("END", "", len(query)))
    return tokens


def _quoted(query: str, start: int) -> tuple[str, int]:
    """The text inside the quote opening at `start`, and where reading goes on after its closing quote."""
    closers = _CLOSING_QUOTES[query[start]]
    for i in range(start + 1, len(query)):
        if query[i] in closers:
            return query[start + 1 : i], i + 1
    raise QuerySyntaxError(start, "this quote is never closed", query, "unclosed_quote")


def _near_distance(given: str | None, position: int, query: str) -> int:
    if given is None:
        return DEFAULT_NEAR
    if not given.isdigit() or not 0 <= int(given) <= MAX_NEAR:
        raise QuerySyntaxError(
            position + 5,
            f"NEAR/ takes a number of words from 0 to {MAX_NEAR}, e.g. NEAR/3",
            query,
            "near_distance",
            limit=MAX_NEAR,
        )
    return int(given)


_WILD_PART = regex.compile(r"[\w--\p{Extended_Pictographic}]*", regex.V1)


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.at = 0
        self.depth = 0
        self.deepest = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def fail(
        self, message: str, code: str, token: _Token | None = None, **params: object
    ) -> QuerySyntaxError:
        return QuerySyntaxError((token or self.token).position, message, self.query, code, **params)

    def parse(self) -> Node:
        if self.token.kind == "END":
            raise self.fail("the query is empty", "empty")
        node = self.disjunction()
        if self.token.kind == "RPAREN":
            raise self.fail("this ) has no ( before it", "unopened_paren")
        if self.token.kind != "END":
            raise self.fail(f"unexpected {self.token.text!r}", "unexpected", found=self.token.text)
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.token.kind == "OR":
            self.at += 1
            parts.append(self.conjunction("OR"))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, after: str | None = None) -> Node:
        parts = [self.negation(after)]
        while self.token.kind in ("AND", "NOT", "WORD", "PHRASE", "PREFIX", "WILDCARD", "FIELD", "LPAREN"):
            if self.token.kind == "AND":
                self.at += 1
                parts.append(self.negation("AND"))
            else:
                parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self, after: str | None = None) -> Node:
        if self.token.kind == "NOT":
            token = self.token
            self.at += 1
            return Not(self.negation("NOT"), token.position)
        return self.proximity(after)

    def proximity(self, after: str | None) -> Node:
        left = self.primary(after)
        if self.token.kind != "NEAR":
            return left
        near = self.token
        self.at += 1
        right_token = self.token
        right = self.primary("NEAR")
        for side, token in ((left, near), (right, right_token)):
            if not isinstance(side, Phrase):
                raise self.fail("NEAR joins two words or quoted phrases", "near_operands", token)
        if self.token.kind == "NEAR":
            raise self.fail("NEAR joins two words or phrases; combine several with AND", "near_chain")
        return Near(left, right, near.distance, near.position)  # type: ignore[arg-type]

    def primary(self, after: str | None) -> Node:
        token = self.token
        if token.kind in ("WORD", "PHRASE", "PREFIX", "WILDCARD", "FIELD"):
            self.at += 1
            return self.term(token)
        if token.kind == "LPAREN":
            self.at += 1
            if self.depth == MAX_NESTING:
                raise self.fail(
                    f"parentheses are nested more than {MAX_NESTING} deep",
                    "too_deep",
                    token,
                    limit=MAX_NESTING,
                )
            if self.token.kind == "RPAREN":
                raise self.fail("these parentheses are empty", "empty_parens")
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            node = self.disjunction()
            self.depth -= 1
            if self.token.kind != "RPAREN":
                raise self.fail("this ( is never closed", "unclosed_paren", token)
            self.at += 1
            return node
        wanted = "a word, a quoted phrase or (" + (f" after {after}" if after else "")
        if token.kind == "END":
            raise self.fail(f"the query ends where {wanted} is expected", "ends_early", after=after or "")
        if token.kind == "RPAREN" and after is None:
            raise self.fail("this ) has no ( before it", "unopened_paren")
        raise self.fail(
            f"expected {wanted}, found {token.text!r}", "expected", after=after or "", found=token.text
        )

    def term(self, token: _Token) -> Node:
        """One word, phrase, prefix*, wild*card or field:value."""
        if token.kind == "WORD":
            found = tuple(words(token.text))
            if not found:
                raise self.fail(
                    f"{token.text!r} has no letters or digits to search for",
                    "no_letters",
                    token,
                    found=token.text,
                )
            return Phrase(found, token.position)
        if token.kind == "PHRASE":
            found = tuple(words(token.text))
            if not found:
                raise self.fail("this quoted phrase has no words in it", "empty_phrase", token)
            return Phrase(found, token.position)
        if token.kind == "PREFIX":
            stem = words(token.text)
            if len(stem) != 1 or stem[0] != token.text.lower() or len(stem[0]) < 2:
                raise self.fail(
                    "a prefix* needs at least 2 letters or digits before the *", "short_prefix", token
                )
            return Prefix(stem[0], token.position)
        if token.kind == "WILDCARD":
            pattern = token.text.lower()
            parts = pattern.split("*")
            if not all(_WILD_PART.fullmatch(p) for p in parts) or sum(map(len, parts)) < 2:
                raise self.fail(
                    "a wild*card is one word with at least 2 letters or digits besides the *",
                    "short_wildcard",
                    token,
                )
            return Wildcard(regex.sub(r"\*+", "*", pattern), token.position)
        return self.field_value(token)

    def field_value(self, token: _Token) -> FieldValue:
        value = token.text.strip().lower()
        if token.field == "author":
            value = value.lstrip("@")
        elif token.field == "hashtag":
            value = value.lstrip("#")
        prefix = value.endswith("*")
        value = value.rstrip("*")
        if not value or "*" in value:
            raise self.fail(
                f"{token.field}: needs a value, e.g. {token.field}:x or {token.field}:x*",
                "field_value",
                token,
                field=token.field,
            )
        if token.field == "sentiment" and (prefix or value not in SENTIMENT_VALUES):
            raise self.fail(
                f"sentiment: is one of {', '.join(SENTIMENT_VALUES)}",
                "sentiment_value",
                token,
                values=", ".join(SENTIMENT_VALUES),
            )
        return FieldValue(token.field, value, prefix, token.position)


def parse_query(query: str) -> Node:
    """The tree of a query, or QuerySyntaxError pointing at the first mistake."""
    return _Parser(query).parse()


def parse_measured(query: str) -> tuple[Node, int]:
    """The tree of a query and how deep its parentheses nest (0: none)."""
    parser = _Parser(query)
    return parser.parse(), parser.deepest


# ---- compiling to Elasticsearch -----------------------------------------------------------------


def _per_field(build) -> dict[str, Any]:
    clauses = [build(field) for field in SEARCHED_FIELDS]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _span(phrase: Phrase, field: str) -> dict[str, Any]:
    terms = [{"span_term": {field: w}} for w in phrase.words]
    if len(terms) == 1:
        return terms[0]
    return {"span_near": {"clauses": terms, "slop": 0, "in_order": True}}


def to_dsl(node: Node) -> dict[str, Any]:
    """The query as Elasticsearch query DSL over the mention's title and text."""
    if isinstance(node, Phrase):
        text = " ".join(node.words)
        return _per_field(lambda f: {"match_phrase": {f: {"query": text, "analyzer": "standard"}}})
    if isinstance(node, Prefix):
        return _per_field(lambda f: {"prefix": {f: {"value": node.stem}}})
    if isinstance(node, Wildcard):
        return _per_field(lambda f: {"wildcard": {f: {"value": node.pattern}}})
    if isinstance(node, FieldValue):
        kind = "prefix" if node.prefix else "term"
        return {kind: {FIELDS[node.name]: {"value": node.value, "case_insensitive": True}}}
    if isinstance(node, Near):
        return _per_field(
            lambda f: {
                "span_near": {
                    "clauses": [_span(node.left, f), _span(node.right, f)],
                    "slop": node.distance,
                    "in_order": False,
                }
            }
        )
    if isinstance(node, And):
        return {"bool": {"filter": [to_dsl(p) for p in node.parts]}}
    if isinstance(node, Or):
        return {"bool": {"should": [to_dsl(p) for p in node.parts], "minimum_should_match": 1}}
    return {"bool": {"must_not": [to_dsl(node.part)]}}


# ---- the portable matcher -----------------------------------------------------------------------


class Words:
    """The words of each searched field of one mention, with their positions, computed once; `facets`
    holds the values of each of FIELDS (lower case) that field:value reads."""

    def __init__(self, fields: dict[str, str | None], facets: dict[str, list[str]] | None = None) -> None:
        self.facets = {name: [v.lower() for v in values] for name, values in (facets or {}).items()}
        self.fields = {name: words(value) for name, value in fields.items()}
        self.positions: dict[str, dict[str, list[int]]] = {}
        for name, found in self.fields.items():
            index: dict[str, list[int]] = {}
            for i, word in enumerate(found):
                index.setdefault(word, []).append(i)
            self.positions[name] = index


def _phrase_starts(phrase: Phrase, field: list[str], index: dict[str, list[int]]) -> list[int]:
    first, size = phrase.words[0], len(phrase.words)
    return [i for i in index.get(first, []) if tuple(field[i : i + size]) == phrase.words]


def _near_in(node: Near, field: list[str], index: dict[str, list[int]]) -> bool:
    # Lucene's unordered span near: the words between the two spans, not counting either, <= distance.
    lefts = [(s, s + len(node.left.words)) for s in _phrase_starts(node.left, field, index)]
    rights = [(s, s + len(node.right.words)) for s in _phrase_starts(node.right, field, index)]
    for (ls, le), (rs, re_) in itertools.product(lefts, rights):
        if ls == rs and le == re_ and node.left == node.right:
            continue  # one occurrence cannot be both ends
        if max(le, re_) - min(ls, rs) - (le - ls) - (re_ - rs) <= node.distance:
            return True
    return False


def evaluate(node: Node, found: Words) -> bool:
    """True when the mention's words satisfy the query, exactly as `to_dsl(node)` would find it."""
    if isinstance(node, Phrase):
        return any(
            _phrase_starts(node, found.fields[f], found.positions[f])
            for f in SEARCHED_FIELDS
            if f in found.fields
        )
    if isinstance(node, Prefix):
        return any(w.startswith(node.stem) for f in found.fields.values() for w in f)
    if isinstance(node, Wildcard):
        pattern = _wildcard_regex(node.pattern)
        return any(pattern.fullmatch(w) for f in found.fields.values() for w in f)
    if isinstance(node, FieldValue):
        values = found.facets.get(node.name, [])
        return any(v.startswith(node.value) if node.prefix else v == node.value for v in values)
    if isinstance(node, Near):
        return any(_near_in(node, found.fields[f], found.positions[f]) for f in found.fields)
    if isinstance(node, And):
        return all(evaluate(p, found) for p in node.parts)
    if isinstance(node, Or):
        return any(evaluate(p, found) for p in node.parts)
    return not evaluate(node.part, found)


@cache
def _wildcard_regex(pattern: str) -> regex.Pattern[str]:
    return regex.compile(".*".join(regex.escape(p) for p in pattern.split("*")), regex.S)


def describe(node: Node) -> str:
    """The query written back in a normalised form (for previews and explanations)."""
    if isinstance(node, Phrase):
        return node.words[0] if len(node.words) == 1 else f'"{" ".join(node.words)}"'
    if isinstance(node, Prefix):
        return f"{node.stem}*"
    if isinstance(node, Wildcard):
        return node.pattern
    if isinstance(node, FieldValue):
        value = node.value if regex.fullmatch(r"[^\s()\"“”«»]+", node.value) else f'"{node.value}"'
        return f"{node.name}:{value}{'*' if node.prefix else ''}"
    if isinstance(node, Near):
        return f"{describe(node.left)} NEAR/{node.distance} {describe(node.right)}"
    if isinstance(node, And):
        return " AND ".join(_grouped(p) for p in node.parts)
    if isinstance(node, Or):
        return " OR ".join(_grouped(p) for p in node.parts)
    return f"NOT {_grouped(node.part)}"


def _grouped(node: Node) -> str:
    return f"({describe(node)})" if isinstance(node, And | Or) else describe(node)


def size(node: Node) -> tuple[int, int]:
    """How many words (each word of a phrase, each wildcard, each field value) and how many wildcards
    (prefix* or wild*card, in text or in a field value) a tree holds: what a search costs the index."""
    if isinstance(node, Phrase):
        return len(node.words), 0
    if isinstance(node, Prefix | Wildcard):
        return 1, 1
    if isinstance(node, FieldValue):
        return 1, int(node.prefix)
    if isinstance(node, Near):
        return len(node.left.words) + len(node.right.words), 0
    parts = node.parts if isinstance(node, And | Or) else (node.part,)
    sizes = [size(p) for p in parts]
    return sum(s[0] for s in sizes), sum(s[1] for s in sizes)


def terms_of(node: Node) -> list[str]:
    """The words, phrases and patterns a tree looks for in the text (not those under NOT): what to
    highlight or explain."""
    if isinstance(node, Phrase):
        return [" ".join(node.words)]
    if isinstance(node, Prefix):
        return [f"{node.stem}*"]
    if isinstance(node, Wildcard):
        return [node.pattern]
    if isinstance(node, Near):
        return [*terms_of(node.left), *terms_of(node.right)]
    if isinstance(node, And | Or):
        return [t for p in node.parts for t in terms_of(p)]
    return []
