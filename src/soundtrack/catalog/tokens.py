"""API tokens for the write endpoints: made here, shown once, stored only as a SHA-256 digest.

A token is ``st_`` and 43 URL-safe characters (256 random bits). With that much randomness a plain
SHA-256 cannot be reversed or guessed, so no slow key-derivation is needed, and a digest can be
looked up directly (one indexed query per request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import CatalogError, NotFoundError
from .convert import utc
from .results import TokenInfo
from .schema import TokenRow, utcnow

PREFIX = "st_"
#: Random bytes per token.
TOKEN_BYTES = 32
MAX_NAME = 100


def digest(token: str) -> str:
    """Hex SHA-256 of ``token``: what the database stores."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, name: str) -> str:
    """A new token called ``name``; returns the token, which is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise CatalogError(f"a token name needs 1 to {MAX_NAME} characters, not {name!r}")
    if session.scalar(select(TokenRow.id).where(TokenRow.name == name)) is not None:
        raise CatalogError(f"a token named {name!r} exists already (revoke it first)")
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    session.add(TokenRow(name=name, token_hash=digest(token)))
    session.flush()
    return token


def verify(session: Session, token: str) -> bool:
    """True if ``token`` is a live token (and note when it was used)."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return False
    wanted = digest(token)
    row = session.scalar(select(TokenRow).where(TokenRow.token_hash == wanted))
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return False
    row.last_used_at = utcnow()
    return True


def revoke(session: Session, name: str) -> None:
    row = session.scalar(select(TokenRow).where(TokenRow.name == name.strip()))
    if row is None:
        raise NotFoundError(f"no token named {name!r}")
    session.delete(row)


def tokens(session: Session) -> list[TokenInfo]:
    rows = session.scalars(select(TokenRow).order_by(TokenRow.name)).all()
    return [TokenInfo(name=r.name, created_at=utc(r.created_at), last_used_at=utc(r.last_used_at))
            for r in rows]
