"""A short soak (issue 18): four stewards upload and confirm at once (half of the confirmations sent twice,
as a double click or a retry would), an admin releases what they store, and reader threads hit the API and
the map all the while. Two app contexts share the store, as two gunicorn workers do: an upload checked by
one is confirmed by the other.

Prints attempted / stored once / lost / duplicated / reader errors; the last three must be 0.
"""
from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections import Counter

import pytest

from atlas.services.context import Atlas
from tests.conftest import csrf_token, fresh_client, login
from tests.test_workflow import extract

ROUNDS = 3  # uploads per steward (the short mode; raise it for a long run by hand)
READERS = 6
PASSWORD = "soak-passwort-2026"
# steward → (department, indicator, period of round k)
STEWARDS = {
    "sozialamt": ("soziales", "sgb2_quote", lambda k: f"{2027 + k}-Q1"),
    "sozial2": ("soziales", "alo_quote", lambda k: f"{2027 + k}-Q2"),
    "jugendamt": ("jugend", "betreuung_u3", lambda k: str(2027 + k)),
    "jugend2": ("jugend", "kita_plaetze", lambda k: str(2027 + k)),
}


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(name)
    return json.loads(text, parse_constant=refuse)


@pytest.mark.slow  # about a minute: dozens of checks and confirmations while readers run
def test_soak_concurrent_uploads_releases_and_readers(scratch_app, scratch_atlas, capsys):
    from atlas.web.app import create_app
    for name in ("sozial2", "jugend2"):
        scratch_atlas.users.add(name, "steward", [STEWARDS[name][0]], PASSWORD, actor="admin")
    second = create_app(atlas=Atlas(dataclasses.replace(scratch_atlas.settings)))  # another worker, same store
    apps = [scratch_app, second]
    attempted: list[str] = []
    confirmed: dict[str, list[int]] = {}
    problems: list[str] = []
    reader_errors: list[str] = []
    reads = Counter()
    lock = threading.Lock()
    stewards_done = threading.Event()

    def signed_in(app, username: str):
        client = fresh_client(app)
        login(client, username, PASSWORD if username in ("sozial2", "jugend2") else None)
        return client, csrf_token(client)

    def steward(username: str) -> None:
        _, indicator, period_of = STEWARDS[username]
        up, up_token = signed_in(apps[0], username)
        conf, conf_token = signed_in(apps[1], username)
        for k in range(ROUNDS):
            resp = up.post("/api/v1/uploads", data={"file": (_bytes(extract(scratch_atlas, indicator, period_of(k))),
                                                             f"{username}-{k}.csv")},
                           content_type="multipart/form-data", headers={"X-CSRFToken": up_token})
            if resp.status_code != 200:
                with lock:
                    problems.append(f"{username} upload {k}: {resp.status_code}")
                continue
            upload_id = resp.get_json()["upload_id"]
            with lock:
                attempted.append(upload_id)
            path = f"/api/v1/uploads/{upload_id}/confirm"
            answers = [conf.post(path, headers={"X-CSRFToken": conf_token})]
            if k % 2 == 0:  # sent twice: a double click or a retry, through the other worker
                answers.append(up.post(path, headers={"X-CSRFToken": up_token}))
            ids = {tuple(a.get_json()["version_ids"]) for a in answers if a.status_code == 201}
            statuses = sorted(a.status_code for a in answers)
            with lock:
                if len(ids) != 1 or any(s not in (201, 409) for s in statuses):
                    problems.append(f"{username} confirm {k}: {statuses} {ids}")
                if ids:
                    confirmed[upload_id] = list(next(iter(ids)))

    def admin() -> None:
        client, token = _admin(apps[1])
        released: set[int] = set()
        while True:
            done = stewards_done.is_set()
            for _, indicator, _ in STEWARDS.values():
                resp = client.get(f"/api/v1/versions?indicator={indicator}")
                if resp.status_code >= 500:
                    with lock:
                        reader_errors.append(f"admin history {indicator}: {resp.status_code}")
                    continue
                for v in resp.get_json().get("versions", []):
                    if v["state"] == "draft" and v["version_id"] not in released:
                        for to in ("internal", "public"):
                            r = client.post(f"/api/v1/versions/{v['version_id']}/release", json={"to": to},
                                            headers={"X-CSRFToken": token})
                            if r.status_code >= 500 or r.status_code not in (200, 409):
                                with lock:
                                    problems.append(f"release v{v['version_id']} → {to}: {r.status_code}")
                        released.add(v["version_id"])
            if done:
                return

    def reader(n: int) -> None:
        rng = random.Random(n)
        clients = [fresh_client(app) for app in apps]
        paths = ["/api/v1/indicators", "/api/v1/values?indicator=sgb2_quote&level=stadt",
                 "/api/v1/values?indicator=betreuung_u3", "/api/v1/values?indicator=alo_quote&level=stadtbezirk",
                 "/api/v1/areas?level=stadtbezirk", "/readyz"]
        while not stewards_done.is_set() or reads[n] < 5:
            client = rng.choice(clients)
            if rng.random() < 0.1:
                path = "/api/v1/map?indicator=sgb2_quote&format=png"
            else:
                path = rng.choice(paths)
            try:
                resp = client.get(path)
                if resp.status_code >= 500:
                    raise AssertionError(resp.status_code)
                if resp.is_json:
                    _strict_json(resp.get_data(as_text=True))
            except Exception as exc:  # every failure counts, whatever its kind
                with lock:
                    reader_errors.append(f"{path}: {type(exc).__name__} {exc}")
            reads[n] += 1

    workers = [threading.Thread(target=steward, args=(name,)) for name in STEWARDS]
    others = [threading.Thread(target=admin)] + [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for t in workers + others:
        t.start()
    for t in workers:
        t.join(timeout=900)
    stewards_done.set()
    for t in others:
        t.join(timeout=300)

    check = Atlas(dataclasses.replace(scratch_atlas.settings))  # a fresh reader of what is on disk
    versions = check.store.read_table("versions")
    per_upload = Counter(n.split(" ", 1)[1] for n in versions["note"].dropna() if n.startswith("Upload "))
    audit = Counter(e["ref"].split(":")[1] for e in map(json.loads, (check.settings.data_dir / "audit.jsonl")
                                                          .read_text(encoding="utf-8").splitlines())
                    if e.get("ref", "").startswith("upload:") and e["action"] == "version_created")
    stored_once = sum(per_upload[u] == 1 and audit[u] == 1 for u in attempted)
    lost = sum(per_upload[u] == 0 for u in attempted)
    duplicated = sum(per_upload[u] > 1 or audit[u] > 1 for u in attempted)
    wrong_ids = [u for u in confirmed if sorted(confirmed[u]) != sorted(
        versions.loc[versions["note"] == f"Upload {u}", "version_id"].tolist())]
    with capsys.disabled():
        print(f"\nsoak: attempted {len(attempted)}, stored once {stored_once}, lost {lost}, duplicated {duplicated}, "
              f"reader requests {sum(reads.values())}, reader errors {len(reader_errors)}")
    assert len(attempted) == len(STEWARDS) * ROUNDS, problems
    assert (lost, duplicated, len(reader_errors)) == (0, 0, 0), (problems, reader_errors[:5])
    assert stored_once == len(attempted) and not wrong_ids and not problems, (problems, wrong_ids)
    assert all(r >= 5 for r in reads.values())


def _bytes(body: bytes):
    import io
    return io.BytesIO(body)


def _admin(app):
    client = fresh_client(app)
    login(client, "admin")
    return client, csrf_token(client)
