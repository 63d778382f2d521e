"""API tokens for scripted feeds: `Authorization: Bearer oa_…`, one or more per user.

A token acts with its user's current rights (a disabled user's tokens stop
working at once). Only a SHA-256 hash is stored: the token is shown once
when created. Tokens are revoked, never deleted, so the audit trail holds.
A token may carry an expiry (local time, by the store's clock): from then on
it is refused like a revoked one, so a forgotten feed's token does not live
for ever.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from auth.permissions import Principal
from auth.users import UserError, utc_now

TOKEN_PREFIX = "oa_"
TOKEN_SCHEMA = pa.schema([
    ("token_id", pa.string()),
    ("username", pa.string()),
    ("name", pa.string()),
    ("token_hash", pa.string()),
    ("created_at", pa.timestamp("s")),
    ("revoked_at", pa.timestamp("s")),
    ("expires_at", pa.timestamp("s")),  # local time; null: no expiry (tables from before have no column)
])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _write(tx, frame: pd.DataFrame) -> None:
    tx.replace_table("tokens", pa.Table.from_pandas(frame, schema=TOKEN_SCHEMA, preserve_index=False))


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    """A stored tokens table with every column of TOKEN_SCHEMA (tables written before expiry have none)."""
    if "expires_at" not in frame:
        frame = frame.assign(expires_at=pd.Series([pd.NaT] * len(frame), dtype="datetime64[s]", index=frame.index))
    return frame


@dataclass(frozen=True)
class NewToken:
    token_id: str
    token: str  # shown once, never stored


class TokenService:
    def __init__(self, store, users, audit):
        self.store, self.users, self.audit = store, users, audit
        self._cache: tuple[str | None, dict[str, tuple[str, str]]] = (None, {})

    def _table(self) -> pd.DataFrame:
        frame = self.store.read_table("tokens") if self.store.exists() else None
        return _complete(TOKEN_SCHEMA.empty_table().to_pandas() if frame is None else frame)

    def all(self) -> pd.DataFrame:
        """Every token without its hash: id, user, name, created, revoked."""
        return self._table().drop(columns="token_hash")

    def add(self, username: str, name: str, actor: str, expires_at: datetime | None = None) -> NewToken:
        """A new token for an active account, valid until `expires_at` (None: until revoked)."""
        user = self.users.get(username)
        if user is None or user.disabled:
            raise UserError(f"no active account {username!r}")
        if expires_at is not None and expires_at <= self.store.clock.now():
            raise UserError("the expiry lies in the past")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        with self.store.writing() as tx:
            frame = tx.read("tokens")
            row = pd.DataFrame([{"token_id": token_id, "username": username, "name": name or "",
                                 "token_hash": _hash(token), "created_at": utc_now(), "revoked_at": None,
                                 "expires_at": expires_at}])
            _write(tx, row if frame is None else pd.concat([_complete(frame), row], ignore_index=True))
        until = f", gültig bis {expires_at:%d.%m.%Y %H:%M}" if expires_at is not None else ""
        self.audit.record(actor, "token_created", username, f"token {token_id} ({name}){until}")
        return NewToken(token_id, token)

    def revoke(self, token_id: str, actor: str) -> None:
        with self.store.writing() as tx:
            frame = tx.read("tokens")
            frame = None if frame is None else _complete(frame)
            hit = None if frame is None else frame.index[(frame["token_id"] == token_id) & frame["revoked_at"].isna()]
            if hit is None or not len(hit):
                raise UserError(f"no active token {token_id!r}")
            frame.loc[hit, "revoked_at"] = utc_now()
            _write(tx, frame)
        self.audit.record(actor, "token_revoked", str(frame.loc[hit[0], "username"]), f"token {token_id}")

    def principal_for(self, token: str) -> Principal | None:
        """The token's user as a principal, or None (unknown, revoked, or the user is disabled)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        rel = self.store.manifest()["tables"].get("tokens") if self.store.exists() else None
        if rel != self._cache[0]:
            active = self._table()
            active = active[active["revoked_at"].isna()]
            self._cache = (rel, dict(zip(active["token_hash"], zip(active["username"], active["token_id"],
                                                                   active["expires_at"]))))
        found = self._cache[1].get(_hash(token))
        if found and pd.notna(found[2]) and found[2] <= self.store.clock.now():
            found = None  # expired: refused like a revoked token
        user = self.users.get(found[0]) if found else None
        return None if user is None or user.disabled else user.principal()
