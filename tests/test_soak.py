"""A short soak (issue 18): four stewards upload and confirm at once (half of the confirmations sent twice,
as a double click or a retry would), an admin releases what they store, and reader threads hit the API and
the map all the while. Two app contexts share the store, as two gunicorn workers do: an upload checked by
one is confirmed by the other. The soak itself (plan, loops, count) is tests/soak.py, shared with the
soak across two servers in tests/test_multiserver.py.

Prints attempted / stored once / lost / duplicated / reader errors; the last three must be 0.
Long mode, by hand: `ORTSATLAS_SOAK=long .venv/bin/python -m pytest -s tests/test_soak.py` (more rounds, readers).
"""
from __future__ import annotations

import dataclasses
import io
import random

import pytest

from atlas.services.context import Atlas
from tests import soak
from tests.conftest import csrf_token, fresh_client, login
from tests.test_workflow import extract


def _answer(resp) -> soak.Answer:
    """A test client's response as the soak reads it (a map's PNG bytes are not text: decoded loosely)."""
    return soak.Answer(resp.status_code, resp.get_data().decode("utf-8", "replace"), resp.is_json)


@dataclasses.dataclass
class _Signed:
    """A test client signed in on one app context, with its CSRF token for writes."""
    client: object
    token: str

    @classmethod
    def on(cls, app, username: str) -> "_Signed":
        client = fresh_client(app)
        login(client, username, soak.password(username))
        return cls(client, csrf_token(client))

    def get(self, path: str) -> soak.Answer:
        return _answer(self.client.get(path))

    def post(self, path: str, body: dict | None = None) -> soak.Answer:
        return _answer(self.client.post(path, json=body, headers={"X-CSRFToken": self.token}))


@dataclasses.dataclass
class _Steward:
    """Uploads through the first context and confirms through the second; the repeat goes to the first."""
    up: _Signed
    conf: _Signed

    def upload(self, body: bytes, filename: str) -> soak.Answer:
        return _answer(self.up.client.post("/api/v1/uploads", data={"file": (io.BytesIO(body), filename)},
                                           content_type="multipart/form-data",
                                           headers={"X-CSRFToken": self.up.token}))

    def confirm(self, upload_id: str, twice: bool) -> list[soak.Answer | None]:
        path = f"/api/v1/uploads/{upload_id}/confirm"
        return [self.conf.post(path)] + ([self.up.post(path)] if twice else [])


@dataclasses.dataclass
class _Reader:
    """Anonymous; each request goes to either context."""
    clients: list
    rng: random.Random

    def get(self, path: str) -> soak.Answer:
        return _answer(self.rng.choice(self.clients).get(path))

    def post(self, path: str, body: dict | None = None) -> soak.Answer:
        raise NotImplementedError("readers only read")


@dataclasses.dataclass
class InProcess:
    """The soak's transport in this process: two app contexts (two workers) on one store."""
    apps: list

    def steward(self, username: str) -> _Steward:
        return _Steward(_Signed.on(self.apps[0], username), _Signed.on(self.apps[1], username))

    def admin(self) -> _Signed:
        return _Signed.on(self.apps[1], "admin")

    def reader(self, rng: random.Random) -> _Reader:
        return _Reader([fresh_client(app) for app in self.apps], rng)


@pytest.mark.slow  # about a minute: dozens of checks and confirmations while readers run
def test_soak_concurrent_uploads_releases_and_readers(scratch_app, scratch_atlas, capsys):
    from atlas.web.app import create_app
    for name, department in soak.ADDED.items():
        scratch_atlas.users.add(name, "steward", [department], soak.PASSWORD, actor="admin")
    second = create_app(atlas=Atlas(dataclasses.replace(scratch_atlas.settings)))  # another worker, same store
    tally = soak.run(InProcess([scratch_app, second]),
                     lambda indicator, period: extract(scratch_atlas, indicator, period), map_share=0.1)
    result = soak.count(Atlas(dataclasses.replace(scratch_atlas.settings)), tally)  # a fresh reader of the disk
    with capsys.disabled():
        print(f"\nsoak: {result.line()}")
    soak.assert_clean(result, tally)
