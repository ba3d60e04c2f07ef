"""Typed errors, caught at the edges (CLI, scheduler, dashboard) and shown as one line."""


class EcouteError(Exception):
    """Base class: its message is the one line a user sees."""


class ConfigError(EcouteError):
    """config.yaml is missing, unreadable or invalid."""


class IndexUnavailableError(EcouteError):
    """Elasticsearch (or the embedded stand-in) cannot be reached or refused a request."""
