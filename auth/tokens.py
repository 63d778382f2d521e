"""API tokens for scripted feeds: `Authorization: Bearer oa_…`, one or more per user.

A token acts with its user's current rights (a disabled user's tokens stop
working at once). Only a SHA-256 hash is stored: the token is shown once
when created. Tokens are revoked, never deleted, so the audit trail holds.
A token may carry an expiry (local time, by the store's clock): from then on
it is refused like a revoked one, so a forgotten feed's token does not live
for ever.

A partner token carries a scope (indicators and/or domains, levels): it
reads only those, only on the read routes, never writes, and must expire
(see `auth.permissions.Scope`). Every request it makes is audited.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from auth.permissions import Principal, Scope, scoped
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
    # A partner token's scope, comma-separated; all three null: an ordinary token (the account's rights).
    ("scope_indicators", pa.string()),
    ("scope_domains", pa.string()),
    ("scope_levels", pa.string()),
])
_SCOPE_COLUMNS = ("scope_indicators", "scope_domains", "scope_levels")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _write(tx, frame: pd.DataFrame) -> None:
    tx.replace_table("tokens", pa.Table.from_pandas(frame, schema=TOKEN_SCHEMA, preserve_index=False))


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    """A stored tokens table with every column of TOKEN_SCHEMA (tables written before expiry have none)."""
    if "expires_at" not in frame:
        frame = frame.assign(expires_at=pd.Series([pd.NaT] * len(frame), dtype="datetime64[s]", index=frame.index))
    for column in _SCOPE_COLUMNS:
        if column not in frame:
            frame = frame.assign(**{column: pd.Series([None] * len(frame), dtype=object, index=frame.index)})
    return frame


def _joined(items) -> str | None:
    return ",".join(sorted(set(items))) if items else None


def _scope(token_id: str, row) -> Scope | None:
    """The scope stored with a token, or None for an ordinary one."""
    parts = [row[c] for c in _SCOPE_COLUMNS]
    if all(not isinstance(v, str) for v in parts):
        return None
    sets = [frozenset(v.split(",")) if isinstance(v, str) and v else frozenset() for v in parts]
    return Scope(*sets, token_id=token_id)


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

    def add(self, username: str, name: str, actor: str, expires_at: datetime | None = None,
            scope: Scope | None = None) -> NewToken:
        """A new token for an active account, valid until `expires_at` (None: until revoked).

        With `scope`, a partner token: it must name at least one indicator or
        domain and one level (the caller checks they exist), and it must expire.
        """
        user = self.users.get(username)
        if user is None or user.disabled:
            raise UserError(f"no active account {username!r}")
        if expires_at is not None and expires_at <= self.store.clock.now():
            raise UserError("the expiry lies in the past")
        if scope is not None:
            if not (scope.indicators or scope.domains) or not scope.levels:
                raise UserError("a partner token names at least one indicator or domain and one level")
            if expires_at is None:
                raise UserError("a partner token needs an expiry date")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        with self.store.writing() as tx:
            frame = tx.read("tokens")
            row = pd.DataFrame([{"token_id": token_id, "username": username, "name": name or "",
                                 "token_hash": _hash(token), "created_at": utc_now(), "revoked_at": None,
                                 "expires_at": expires_at,
                                 "scope_indicators": _joined(scope.indicators) if scope else None,
                                 "scope_domains": _joined(scope.domains) if scope else None,
                                 "scope_levels": _joined(scope.levels) if scope else None}])
            _write(tx, row if frame is None else pd.concat([_complete(frame), row], ignore_index=True))
        until = f", gültig bis {expires_at:%d.%m.%Y %H:%M}" if expires_at is not None else ""
        scoped_to = "" if scope is None else (
            f", Partnerzugang: Indikatoren {_joined(scope.indicators) or '-'}, Themen {_joined(scope.domains) or '-'}, "
            f"Ebenen {_joined(scope.levels)}")
        self.audit.record(actor, "token_created", username, f"token {token_id} ({name}){until}{scoped_to}")
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
            self._cache = (rel, {row["token_hash"]: (row["username"], row["token_id"], row["expires_at"],
                                                     _scope(row["token_id"], row))
                                 for row in active.to_dict("records")})
        found = self._cache[1].get(_hash(token))
        if found and pd.notna(found[2]) and found[2] <= self.store.clock.now():
            found = None  # expired: refused like a revoked token
        user = self.users.get(found[0]) if found else None
        if user is None or user.disabled:
            return None
        return user.principal() if found[3] is None else scoped(user.principal(), found[3])
