"""API tokens for scripted feeds: `Authorization: Bearer oa_…`, one or more per user.

A token acts with its user's current rights (a disabled user's tokens stop
working at once). Only a SHA-256 hash is stored: the token is shown once
when created. Tokens are revoked, never deleted, so the audit trail holds.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

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
])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _write(tx, frame: pd.DataFrame) -> None:
    tx.replace_table("tokens", pa.Table.from_pandas(frame, schema=TOKEN_SCHEMA, preserve_index=False))


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
        return TOKEN_SCHEMA.empty_table().to_pandas() if frame is None else frame

    def all(self) -> pd.DataFrame:
        """Every token without its hash: id, user, name, created, revoked."""
        return self._table().drop(columns="token_hash")

    def add(self, username: str, name: str, actor: str) -> NewToken:
        user = self.users.get(username)
        if user is None or user.disabled:
            raise UserError(f"no active account {username!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        with self.store.writing() as tx:
            frame = tx.read("tokens")
            row = pd.DataFrame([{"token_id": token_id, "username": username, "name": name or "",
                                 "token_hash": _hash(token), "created_at": utc_now(), "revoked_at": None}])
            _write(tx, row if frame is None else pd.concat([frame, row], ignore_index=True))
        self.audit.record(actor, "token_created", username, f"token {token_id} ({name})")
        return NewToken(token_id, token)

    def revoke(self, token_id: str, actor: str) -> None:
        with self.store.writing() as tx:
            frame = tx.read("tokens")
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
            self._cache = (rel, dict(zip(active["token_hash"], zip(active["username"], active["token_id"]))))
        found = self._cache[1].get(_hash(token))
        user = self.users.get(found[0]) if found else None
        return None if user is None or user.disabled else user.principal()
