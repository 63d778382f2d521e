"""Command line: `python -m atlas COMMAND` acts on the store in ATLAS_DATA_DIR.

  info    what the store holds (boundary sets, indicators, versions)
  demo    [--county] generate the demo city (or the demo county) into an empty data directory
  init    start an empty store for a real city (then upload boundaries and data)
  users   add | list | disable | enable | passwd   (accounts; passwords only via stdin)
  tokens  add NAME [--label TEXT] [--expires DATE] | list | revoke ID   (API tokens for scripted feeds)
          add NAME --indicators IDS|--domains IDS --levels IDS --expires DATE   (read-only partner token)
  backup PATH          copy the store as it stands now into a new directory, with checksums (app may run)
  restore PATH         check a backup, then restore it into ATLAS_DATA_DIR (must be new or empty)
  verify-backup PATH   check a backup's checksums without restoring it
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, time
from pathlib import Path

from atlas import demo_county
from atlas.config import PROJECT_ROOT, load_settings
from atlas.demo import ensure_demo
from atlas.services import partner_access, queries, versions
from atlas.services.context import Atlas
from atlas.store import backup as backups
from auth.permissions import ROLES
from auth.users import UserError

CLI_ACTOR = "cli"


def cmd_info(atlas: Atlas, _args) -> int:
    store = atlas.store
    if not store.exists():
        print(f"no store in {atlas.settings.data_dir}")
        return 1
    print(f"data directory: {atlas.settings.data_dir} (generation {store.generation()})")
    print(queries.boundary_sets(atlas)[["set_id", "valid_from", "valid_to", "label"]].to_string(index=False))
    print(versions.state_counts(atlas).to_string(index=False))
    print(f"indicators in the catalogue: {len(atlas.indicators)}")
    return 0


def cmd_demo(atlas: Atlas, args) -> int:
    if atlas.store.exists():
        print(f"{atlas.settings.data_dir} already holds a store; the demo goes only into an empty one",
              file=sys.stderr)
        return 1
    if args.county:
        demo_county.ensure_demo_county(atlas)
        print(f"demo county ({demo_county.COUNTY_NAME}) written to {atlas.settings.data_dir}")
    else:
        ensure_demo(atlas)
        print(f"demo city written to {atlas.settings.data_dir}")
    return 0


def cmd_init(atlas: Atlas, args) -> int:
    import json

    from atlas.ingest.boundary_upload import init_empty_store
    from atlas.services.boundaries import BoundaryError
    from atlas.services.territory import LevelError
    try:
        levels = json.loads(Path(args.levels).read_text(encoding="utf-8")) if args.levels else None
        init_empty_store(atlas.store, args.city, args.key, levels)
    except (BoundaryError, LevelError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"empty store for {args.city} in {atlas.settings.data_dir}; next: create an admin "
          "(users add NAME --role admin --password-stdin) and upload boundaries (POST /api/v1/boundaries)")
    return 0


def _read_password(args) -> str:
    if not args.password_stdin:
        raise UserError("give the password on standard input with --password-stdin (never as an argument)")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserError("no password on standard input")
    return password


def _require_store(atlas: Atlas) -> None:
    if not atlas.store.exists():
        raise UserError(f"no store in {atlas.settings.data_dir}; start the app once or run `python -m atlas demo`")


def _end_of_day(text: str) -> datetime:
    """`--expires 2027-06-30`: the token works through that whole day."""
    try:
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59))
    except ValueError:
        raise UserError(f"--expires: expected a date as YYYY-MM-DD, not {text!r}") from None


def cmd_tokens(atlas: Atlas, args) -> int:
    """The token is printed once; only its hash is stored."""
    _require_store(atlas)
    if args.action == "add":
        scope = None
        if args.indicators or args.domains or args.levels:
            scope = partner_access.scope_from_names(atlas, args.indicators, args.domains, args.levels)
        expires = _end_of_day(args.expires) if args.expires else None
        new = atlas.tokens.add(args.name, args.label or "", actor=CLI_ACTOR, expires_at=expires, scope=scope)
        print(f"token {new.token_id} for {args.name} (shown once, store it safely):")
        print(new.token)
    elif args.action == "list":
        frame = atlas.tokens.all()
        print(frame.to_string(index=False) if len(frame) else "no tokens")
    else:
        atlas.tokens.revoke(args.token_id, actor=CLI_ACTOR)
        print(f"token {args.token_id} revoked")
    return 0


def cmd_users(atlas: Atlas, args) -> int:
    _require_store(atlas)
    users = atlas.users
    if args.action == "add":
        user = users.add(args.name, args.role, args.department or [], _read_password(args), actor=CLI_ACTOR)
        print(f"added {user.username} ({user.role}{': ' + ', '.join(user.departments) if user.departments else ''})")
    elif args.action == "list":
        rows = sorted(users.all().values(), key=lambda u: u.username)
        print(f"{'user':<20} {'role':<9} {'departments':<24} {'status':<9} grants")
        for u in rows:
            print(f"{u.username:<20} {u.role:<9} {','.join(u.departments):<24} "
                  f"{'disabled' if u.disabled else 'active':<9} {','.join(u.grants)}")
    elif args.action in ("disable", "enable"):
        users.set_disabled(args.name, args.action == "disable", actor=CLI_ACTOR)
        print(f"{args.name} {args.action}d")
    elif args.action == "passwd":
        users.set_password(args.name, _read_password(args), actor=CLI_ACTOR)
        print(f"password of {args.name} changed; existing sessions ended")
    return 0


def cmd_backup(atlas: Atlas, args) -> int:
    try:
        done = backups.backup(atlas.store, Path(args.path))
    except backups.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup of {atlas.settings.data_dir} (generation {done.generation}) written to {done.path}: "
          f"{done.files} files, {done.bytes / 1e6:.1f} MB, checksums in SHA256SUMS")
    for folder, why in done.skipped.items():
        print(f"  not backed up: {folder} {why}")
    return 0


def _target_data_dir() -> Path:
    """ATLAS_DATA_DIR as `load_settings` reads it, without creating it (load_settings writes a session key there)."""
    return Path(os.environ.get("ATLAS_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def cmd_restore(args) -> int:
    """Runs without opening a context: the target must stay empty until the backup has been checked."""
    target = _target_data_dir()
    try:
        generation = backups.restore(Path(args.path), target)
    except backups.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup {Path(args.path).resolve()} checked and restored into {target} (generation {generation}); "
          f"start the app with ATLAS_DATA_DIR={target}")
    return 0


def cmd_verify_backup(args) -> int:
    try:
        sums = backups.verify(Path(args.path))
    except backups.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup {Path(args.path).resolve()} is complete: {len(sums)} files match SHA256SUMS")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="what the store holds").set_defaults(func=cmd_info)
    demo_cmd = sub.add_parser("demo", help="generate the demo city (or county) into an empty data directory")
    demo_cmd.add_argument("--county", action="store_true",
                          help="the demo county: 19 Gemeinden in 4 Planregionen, Ortsteile below the larger ones")
    demo_cmd.set_defaults(func=cmd_demo)
    init = sub.add_parser("init", help="start an empty store for a real city")
    init.add_argument("--city", required=True, help="the city's name, e.g. Kaiserslautern")
    init.add_argument("--key", required=True, help="the city's official key (AGS), e.g. 07312000")
    init.add_argument("--levels", help="a JSON file with the territory's levels, base first (see README: "
                                       "id, name_de, name_en, plural_de, plural_en, parent_from)")
    init.set_defaults(func=cmd_init)

    users = sub.add_parser("users", help="manage accounts").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--department", action="append", help="department key; repeat for several")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users.add_parser("list", help="list accounts")
    for action in ("disable", "enable"):
        users.add_parser(action, help=f"{action} an account (ends its sessions)").add_argument("name")
    passwd = users.add_parser("passwd", help="set a new password (ends the account's sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    for p in users.choices.values():
        p.set_defaults(func=cmd_users)

    tokens = sub.add_parser("tokens", help="API tokens (Authorization: Bearer)").add_subparsers(
        dest="action", required=True)
    tadd = tokens.add_parser("add", help="create a token for an account; printed once")
    tadd.add_argument("name", help="the account the token acts as")
    tadd.add_argument("--label", help="what the token is for, e.g. 'Fachverfahren Jugendhilfe'")
    tadd.add_argument("--expires", help="last day the token works, YYYY-MM-DD (required for a partner token)")
    tadd.add_argument("--indicators", help="partner token: the indicator ids it may read, comma-separated")
    tadd.add_argument("--domains", help="partner token: the domains (all their indicators) it may read")
    tadd.add_argument("--levels", help="partner token: the levels (or parallel grids) it may read, comma-separated")
    tokens.add_parser("list", help="list tokens (never the tokens themselves)")
    tokens.add_parser("revoke", help="revoke a token").add_argument("token_id")
    for p in tokens.choices.values():
        p.set_defaults(func=cmd_tokens)

    sub.add_parser("backup", help="back up the store (while the app runs) into a new or empty directory"
                   ).add_argument("path")
    sub.add_parser("restore", help="check a backup and restore it into ATLAS_DATA_DIR (new or empty)"
                   ).add_argument("path")
    sub.add_parser("verify-backup", help="check a backup's checksums").add_argument("path")
    sub.choices["backup"].set_defaults(func=cmd_backup)
    # Without a context: opening one would write a session key into the (still empty) target.
    sub.choices["restore"].set_defaults(func=cmd_restore, without_context=True)
    sub.choices["verify-backup"].set_defaults(func=cmd_verify_backup, without_context=True)

    args = parser.parse_args(argv)
    if getattr(args, "without_context", False):
        return args.func(args)
    try:
        return args.func(Atlas(load_settings()), args)
    except (UserError, partner_access.ScopeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
