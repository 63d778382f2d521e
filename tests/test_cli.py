"""The account CLI, run as operators script it: a real process on a real store."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from atlas.config import PROJECT_ROOT


@pytest.fixture()
def data_dir(atlas, tmp_path):
    target = tmp_path / "store"
    shutil.copytree(atlas.store.data_dir, target)
    return target


def cli(data_dir, *args, stdin: str = ""):
    env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "atlas", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=PROJECT_ROOT, timeout=120)


def test_add_list_disable_passwd(data_dir):
    added = cli(data_dir, "users", "add", "m.muster", "--role", "steward", "--department", "schule",
                "--department", "jugend", "--password-stdin", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    listing = cli(data_dir, "users", "list").stdout
    row = next(line for line in listing.splitlines() if line.startswith("m.muster"))
    assert "steward" in row and "jugend,schule" in row and "active" in row
    assert cli(data_dir, "users", "disable", "m.muster").returncode == 0
    assert "disabled" in next(line for line in cli(data_dir, "users", "list").stdout.splitlines()
                              if line.startswith("m.muster"))
    assert cli(data_dir, "users", "passwd", "m.muster", "--password-stdin", stdin="another-password\n").returncode == 0

    import dataclasses

    from atlas.config import load_settings
    from atlas.services.context import Atlas
    atlas = Atlas(dataclasses.replace(load_settings(), data_dir=data_dir))
    user = atlas.users.get("m.muster")
    assert user.disabled and user.password_hash.startswith("$argon2id$")
    assert "another-password" not in (data_dir / "audit.jsonl").read_text()
    actions = [e["action"] for e in atlas.audit.entries(10) if e["target"] == "m.muster"]
    assert actions[:3] == ["password_changed", "user_disabled", "user_added"]


@pytest.mark.parametrize("args,stdin,message", [
    (["users", "add", "x1", "--role", "steward", "--password-stdin"], "long-enough-pw\n", "at least one department"),
    (["users", "add", "x2", "--role", "internal", "--password-stdin"], "short\n", "at least 10 characters"),
    (["users", "add", "x3", "--role", "internal"], "", "--password-stdin"),
    (["users", "add", "x4", "--role", "steward", "--department", "zoo", "--password-stdin"], "long-enough-pw\n",
     "unknown department"),
    (["users", "add", "intern", "--role", "internal", "--password-stdin"], "long-enough-pw\n", "exists already"),
    (["users", "disable", "nobody"], "", "no user 'nobody'"),
])
def test_refusals_are_specific(data_dir, args, stdin, message):
    result = cli(data_dir, *args, stdin=stdin)
    assert result.returncode == 2 and message in result.stderr
