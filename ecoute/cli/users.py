"""`ecoute users hash-password`: the hash a dashboard user's password is stored as in config.yaml."""

from __future__ import annotations

from ecoute.cli.output import say


def hash_password(password: str) -> None:
    from ecoute.passwords import hash_password as scrypt_hash

    say(scrypt_hash(password))
