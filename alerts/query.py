"""The rule query language is the one search language of Écoute: see `index.query_language`.

Kept so rules, the CLI and older imports read it from here too; there is one parser, not two.
"""

from core.text import words
from index.query_language import (
    DEFAULT_NEAR,
    FIELDS,
    MAX_NEAR,
    MAX_NESTING,
    SEARCHED_FIELDS,
    And,
    FieldValue,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QuerySyntaxError,
    Wildcard,
    Words,
    describe,
    evaluate,
    parse_query,
    to_dsl,
)

__all__ = [
    "DEFAULT_NEAR",
    "FIELDS",
    "MAX_NEAR",
    "MAX_NESTING",
    "SEARCHED_FIELDS",
    "And",
    "FieldValue",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "QuerySyntaxError",
    "Wildcard",
    "Words",
    "describe",
    "evaluate",
    "parse_query",
    "to_dsl",
    "words",
]
