"""User accounts, kept in the store (table `users`), never in code.

Passwords are hashed with argon2id. Each account carries a session nonce that
is part of its login session id: changing the password or disabling the
account changes the nonce and so ends every session of that user at once.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Callable

import pandas as pd
import pyarrow as pa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth.permissions import ROLES, Principal

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

USER_SCHEMA = pa.schema([
    ("username", pa.string()),
    ("password_hash", pa.string()),
    ("role", pa.string()),
    ("departments", pa.string()),  # comma-separated department keys
    ("grants", pa.string()),  # comma-separated restricted indicator ids
    ("disabled", pa.bool_()),
    ("session_nonce", pa.string()),
    ("created_at", pa.timestamp("s")),
    ("updated_at", pa.timestamp("s")),
])


class UserError(ValueError):
    """A user operation was refused; the message says exactly why."""


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: str
    departments: tuple[str, ...]
    grants: tuple[str, ...]
    disabled: bool
    session_nonce: str
    created_at: datetime
    updated_at: datetime

    @property
    def session_id(self) -> str:
        return f"{self.username}:{self.session_nonce}"

    def principal(self) -> Principal:
        return Principal(self.username, self.role, frozenset(self.departments), frozenset(self.grants),
                         logged_in=True)


def _split(text) -> tuple[str, ...]:
    return tuple(sorted(p for p in str(text or "").split(",") if p))


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def load_users(store) -> dict[str, User]:
    return users_from_frame(store.read_table("users"))


def users_from_frame(frame: pd.DataFrame | None) -> dict[str, User]:
    if frame is None:
        return {}
    return {r.username: User(r.username, r.password_hash, r.role, _split(r.departments), _split(r.grants),
                             bool(r.disabled), r.session_nonce, r.created_at.to_pydatetime(),
                             r.updated_at.to_pydatetime())
            for r in frame.itertuples(index=False)}


def _frame(users: dict[str, User]) -> pa.Table:
    rows = [{"username": u.username, "password_hash": u.password_hash, "role": u.role,
             "departments": ",".join(u.departments), "grants": ",".join(u.grants), "disabled": u.disabled,
             "session_nonce": u.session_nonce, "created_at": u.created_at, "updated_at": u.updated_at}
            for u in sorted(users.values(), key=lambda u: u.username)]
    return pa.Table.from_pandas(pd.DataFrame(rows, columns=USER_SCHEMA.names), schema=USER_SCHEMA,
                                preserve_index=False)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")


def _check_role(role: str, departments: tuple[str, ...], known_departments: set[str]) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    unknown = [d for d in departments if d not in known_departments]
    if unknown:
        raise UserError(f"unknown department(s) {', '.join(unknown)}; known: {', '.join(sorted(known_departments))}")
    if role == "steward" and not departments:
        raise UserError("a steward needs at least one department (--department)")


class UserService:
    """All account changes; each one is a store transaction and an audit entry."""

    def __init__(self, store, known_departments: Callable[[], set[str]], audit):
        self.store = store
        self.known_departments = known_departments
        self.audit = audit
        self._cache: tuple[str | None, dict[str, User]] = (None, {})

    def all(self) -> dict[str, User]:
        """Every account; re-read only when the users file changed (checked per request)."""
        if not self.store.exists():
            return {}
        rel = self.store.manifest()["tables"].get("users")
        if rel != self._cache[0]:
            self._cache = (rel, load_users(self.store))
        return self._cache[1]

    def get(self, username: str) -> User | None:
        return self.all().get(username)

    def _change(self, username: str, actor: str, action: str, detail: str, change) -> User:
        with self.store.writing() as tx:
            users = users_from_frame(tx.read("users"))
            updated = change(users.get(username))
            users[updated.username] = updated
            tx.replace_table("users", _frame(users))
        self.audit.record(actor, action, target=username, detail=detail)
        return updated

    def add(self, username: str, role: str, departments: list[str] | tuple[str, ...], password: str,
            actor: str) -> User:
        username = (username or "").strip().lower()
        if not USERNAME.match(username):
            raise UserError("user names are 2–64 characters: a–z, 0–9, '.', '_' or '-', starting with a letter "
                            "or digit")
        depts = tuple(sorted(set(departments or ())))
        _check_role(role, depts, self.known_departments())
        _check_password(password)

        def create(existing: User | None) -> User:
            if existing is not None:
                raise UserError(f"user {username!r} exists already")
            now = utc_now()
            return User(username, _hasher.hash(password), role, depts, (), False, secrets.token_hex(16), now, now)
        return self._change(username, actor, "user_added", f"role={role} departments={','.join(depts)}", create)

    def _existing(self, username: str):
        def guard(user: User | None) -> User:
            if user is None:
                raise UserError(f"no user {username!r}")
            return user
        return guard

    def set_password(self, username: str, password: str, actor: str) -> User:
        _check_password(password)
        guard = self._existing(username)
        return self._change(username, actor, "password_changed", "", lambda u: replace(
            guard(u), password_hash=_hasher.hash(password), session_nonce=secrets.token_hex(16), updated_at=utc_now()))

    def set_disabled(self, username: str, disabled: bool, actor: str) -> User:
        guard = self._existing(username)
        return self._change(username, actor, "user_disabled" if disabled else "user_enabled", "", lambda u: replace(
            guard(u), disabled=disabled, session_nonce=secrets.token_hex(16), updated_at=utc_now()))

    def set_role(self, username: str, role: str, departments: list[str] | tuple[str, ...], actor: str) -> User:
        depts = tuple(sorted(set(departments or ())))
        _check_role(role, depts, self.known_departments())
        guard = self._existing(username)
        return self._change(username, actor, "role_changed", f"role={role} departments={','.join(depts)}",
                            lambda u: replace(guard(u), role=role, departments=depts,
                                              session_nonce=secrets.token_hex(16), updated_at=utc_now()))

    def set_grants(self, username: str, grants: list[str] | tuple[str, ...], actor: str) -> User:
        grants_t = tuple(sorted(set(grants or ())))
        guard = self._existing(username)
        return self._change(username, actor, "grants_changed", f"grants={','.join(grants_t)}",
                            lambda u: replace(guard(u), grants=grants_t, updated_at=utc_now()))

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password matches and the account is enabled; same cost either way."""
        user = self.get((username or "").strip().lower())
        try:
            ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or user.disabled:
            return None
        return user
