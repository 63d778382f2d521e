"""The soak of issue 18, written once: its plan, its steward / admin / reader loops and its count.

tests/test_soak.py runs it in-process (two app contexts, Flask test clients) and tests/test_multiserver.py
over real HTTP (nginx and two gunicorn servers); they differ only in the `Transport` they hand to `run`,
so both check the same thing: every upload attempted is stored once, none lost, none duplicated, and no
reader request fails while stewards upload and confirm (half of the confirmations sent twice) and an admin
releases. Not collected by pytest (no `test_` prefix).

Its size is the one test setting read from the environment: `ORTSATLAS_SOAK=long` (by hand) runs more
rounds and readers, and more kill -9 runs in tests/test_confirm_faults.py; unset, the short mode CI runs.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
from collections import Counter
from typing import Any, Callable, Protocol

LONG = os.environ.get("ORTSATLAS_SOAK", "short") == "long"  # read here only: a test setting, not the atlas's
ROUNDS = 12 if LONG else 3  # uploads per steward
READERS = 12 if LONG else 6  # reader threads
KILL_RUNS = 60 if LONG else 3  # kill -9 runs at random points of confirm, release and rollback
KILL_SEED = random.randrange(10**6) if LONG else 18  # the short mode's points are the same every run

PASSWORD = "soak-passwort-2026"  # of the stewards the soak adds to the demo's two
ADDED = {"sozial2": "soziales", "jugend2": "jugend"}  # steward → department, created by each test's set-up
# steward → (department, indicator, period of round k): each writes its own indicator, so no upload conflicts
STEWARDS = {
    "sozialamt": ("soziales", "sgb2_quote", lambda k: f"{2027 + k}-Q1"),
    "sozial2": ("soziales", "alo_quote", lambda k: f"{2027 + k}-Q2"),
    "jugendamt": ("jugend", "betreuung_u3", lambda k: str(2027 + k)),
    "jugend2": ("jugend", "kita_plaetze", lambda k: str(2027 + k)),
}
READ_PATHS = ["/api/v1/indicators", "/api/v1/values?indicator=sgb2_quote&level=stadt",
              "/api/v1/values?indicator=betreuung_u3", "/api/v1/values?indicator=alo_quote&level=stadtbezirk",
              "/api/v1/areas?level=stadtbezirk", "/readyz"]
MAP_PATH = "/api/v1/map?indicator=sgb2_quote&format=png"
MIN_READS = 5  # each reader goes on until the stewards are done and it has read at least this often


@dataclasses.dataclass
class Answer:
    """One response, whichever client got it: the loops read only these fields."""
    status: int
    text: str
    is_json: bool

    def json(self) -> Any:
        return json.loads(self.text)


class Client(Protocol):
    def get(self, path: str) -> Answer: ...
    def post(self, path: str, body: dict | None = None) -> Answer: ...


class Steward(Protocol):
    def upload(self, body: bytes, filename: str) -> Answer: ...
    def confirm(self, upload_id: str, twice: bool) -> list[Answer | None]:
        """The confirmation, sent once or twice (a double click or a retry); None for one that got no answer."""


class Transport(Protocol):
    """How the soak reaches the atlas: in-process test clients, or HTTP through nginx."""
    def steward(self, username: str) -> Steward: ...
    def admin(self) -> Client: ...
    def reader(self, rng: random.Random) -> Client: ...


@dataclasses.dataclass
class Tally:
    """What the threads saw, gathered under one lock."""
    attempted: list[str] = dataclasses.field(default_factory=list)
    confirmed: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    reader_errors: list[str] = dataclasses.field(default_factory=list)
    reads: Counter = dataclasses.field(default_factory=Counter)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def note(self, kind: str, text: str) -> None:
        with self.lock:
            getattr(self, kind).append(text)


def password(username: str) -> str:
    """The demo's password for its users, the soak's for the stewards it adds."""
    from tests.conftest import DEMO_PASSWORDS
    return DEMO_PASSWORDS.get(username, PASSWORD)


def strict_json(text: str) -> Any:
    """JSON as a browser's parser takes it: NaN or Infinity in an answer is an error, not a number."""
    def refuse(name):
        raise ValueError(name)
    return json.loads(text, parse_constant=refuse)


def run(transport: Transport, body_of: Callable[[str, str], bytes], map_share: float = 0.1,
        admin_pause: float = 0.0) -> Tally:
    """Stewards, one admin and READERS readers at once; returns what they saw when all are done.

    `body_of(indicator, period)` is the CSV a steward uploads in one round; `map_share` of the reader
    requests draw a map; the admin waits `admin_pause` seconds between passes (real servers need no hammering).
    """
    tally = Tally()
    stewards_done = threading.Event()
    workers = [threading.Thread(target=_steward, args=(transport, name, body_of, tally)) for name in STEWARDS]
    others = [threading.Thread(target=_admin, args=(transport, tally, stewards_done, admin_pause))]
    others += [threading.Thread(target=_reader, args=(transport, n, tally, stewards_done, map_share)) for n in range(READERS)]
    for t in workers + others:
        t.start()
    for t in workers:
        t.join(timeout=300 * ROUNDS)
    stewards_done.set()
    for t in others:
        t.join(timeout=300)
    return tally


def _steward(transport: Transport, username: str, body_of: Callable[[str, str], bytes], tally: Tally) -> None:
    """ROUNDS uploads, each confirmed; every other one twice. Both confirmations must name the same versions."""
    _, indicator, period_of = STEWARDS[username]
    client = transport.steward(username)
    for k in range(ROUNDS):
        resp = client.upload(body_of(indicator, period_of(k)), f"{username}-{k}.csv")
        if resp.status != 200:
            tally.note("problems", f"{username} upload {k}: {resp.status} {resp.text[:200]}")
            continue
        upload_id = resp.json()["upload_id"]
        tally.note("attempted", upload_id)
        answers = client.confirm(upload_id, twice=k % 2 == 0)
        statuses = sorted(a.status if a is not None else 0 for a in answers)
        ids = {tuple(a.json()["version_ids"]) for a in answers if a is not None and a.status == 201}
        with tally.lock:
            if len(ids) != 1 or any(s not in (201, 409) for s in statuses):
                tally.problems.append(f"{username} confirm {k}: {statuses} {ids}")
            if ids:
                tally.confirmed[upload_id] = list(next(iter(ids)))


def _admin(transport: Transport, tally: Tally, stewards_done: threading.Event, pause: float) -> None:
    """Releases every draft of the soak's indicators to internal, then public, until a pass after the stewards."""
    import time
    client = transport.admin()
    released: set[int] = set()
    while True:
        done = stewards_done.is_set()  # read before the pass, so the last pass sees the last confirmation
        for _, indicator, _ in STEWARDS.values():
            resp = client.get(f"/api/v1/versions?indicator={indicator}")
            if resp.status >= 500:
                tally.note("reader_errors", f"admin history {indicator}: {resp.status}")
                continue
            for v in resp.json().get("versions", []):
                if v["state"] == "draft" and v["version_id"] not in released:
                    for to in ("internal", "public"):
                        r = client.post(f"/api/v1/versions/{v['version_id']}/release", {"to": to})
                        if r.status not in (200, 409):
                            tally.note("problems", f"release v{v['version_id']} → {to}: {r.status}")
                    released.add(v["version_id"])
        if done:
            return
        time.sleep(pause)


def _reader(transport: Transport, n: int, tally: Tally, stewards_done: threading.Event,
            map_share: float) -> None:
    """Reads the API and the map; any 5xx, exception or non-strict JSON counts as an error."""
    rng = random.Random(n)
    client = transport.reader(rng)
    while not stewards_done.is_set() or tally.reads[n] < MIN_READS:
        path = MAP_PATH if rng.random() < map_share else rng.choice(READ_PATHS)
        try:
            resp = client.get(path)
            if resp.status >= 500:
                raise AssertionError(resp.status)
            if resp.is_json:
                strict_json(resp.text)
        except Exception as exc:  # every failure counts, whatever its kind
            tally.note("reader_errors", f"{path}: {type(exc).__name__} {exc}")
        tally.reads[n] += 1


@dataclasses.dataclass
class Result:
    """The soak's figures, counted from what the store and the audit log hold afterwards."""
    attempted: int
    stored_once: int
    lost: int
    duplicated: int
    wrong_ids: list[str]
    reader_requests: int
    reader_errors: int
    states: Counter  # of the versions the attempted uploads made: all "public" once the admin is done

    def line(self) -> str:
        return (f"attempted {self.attempted}, stored once {self.stored_once}, lost {self.lost}, "
                f"duplicated {self.duplicated}, reader requests {self.reader_requests}, "
                f"reader errors {self.reader_errors}")


def count(check, tally: Tally) -> Result:
    """Counts each attempted upload's versions (their note names the upload) and its `version_created` entries.

    `check` is a fresh `Atlas` on the same data (and database): it reads what is stored, not what a
    server holds in memory.
    """
    versions = check.store.read_table("versions")
    per_upload = Counter(n.split(" ", 1)[1] for n in versions["note"].dropna() if n.startswith("Upload "))
    audit = Counter(e["ref"].split(":")[1] for e in check.audit.entries(limit=10**6)
                    if str(e.get("ref", "")).startswith("upload:") and e["action"] == "version_created")
    attempted = tally.attempted
    wrong_ids = [u for u in tally.confirmed if sorted(tally.confirmed[u]) != sorted(
        versions.loc[versions["note"] == f"Upload {u}", "version_id"].tolist())]
    states = Counter(versions[versions["note"].isin([f"Upload {u}" for u in attempted])]["state"])
    return Result(attempted=len(attempted),
                  stored_once=sum(per_upload[u] == 1 and audit[u] == 1 for u in attempted),
                  lost=sum(per_upload[u] == 0 for u in attempted),
                  duplicated=sum(per_upload[u] > 1 or audit[u] > 1 for u in attempted),
                  wrong_ids=wrong_ids, reader_requests=sum(tally.reads.values()),
                  reader_errors=len(tally.reader_errors), states=states)


def assert_clean(result: Result, tally: Tally) -> None:
    """What both soaks require: every upload made, none lost or duplicated, no reader error, every reader read."""
    assert result.attempted == len(STEWARDS) * ROUNDS, tally.problems
    assert (result.lost, result.duplicated, result.reader_errors) == (0, 0, 0), (tally.problems,
                                                                                tally.reader_errors[:5])
    assert result.stored_once == result.attempted and not result.wrong_ids and not tally.problems, (
        tally.problems, result.wrong_ids)
    assert all(r >= MIN_READS for r in tally.reads.values()) and len(tally.reads) == READERS
