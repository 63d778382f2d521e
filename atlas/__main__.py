"""Command line: `python -m atlas COMMAND` acts on the store in ATLAS_DATA_DIR.

  info   what the store holds (boundary sets, indicators, versions)
  demo   generate the demo city into an empty data directory
"""
from __future__ import annotations

import argparse
import sys

from atlas.bootstrap import Atlas
from atlas.config import load_settings


def cmd_info(atlas: Atlas, _args) -> int:
    store = atlas.store
    if not store.exists():
        print(f"no store in {atlas.settings.data_dir}")
        return 1
    print(f"data directory: {atlas.settings.data_dir} (generation {store.generation()})")
    print(store.query("SELECT set_id, valid_from, valid_to, label FROM boundary_sets ORDER BY valid_from")
          .to_string(index=False))
    counts = store.query("SELECT state, count(*) AS versions FROM versions GROUP BY 1 ORDER BY 1")
    print(counts.to_string(index=False))
    print(f"indicators in the catalogue: {len(atlas.indicators)}")
    return 0


def cmd_demo(atlas: Atlas, _args) -> int:
    if atlas.store.exists():
        print(f"{atlas.settings.data_dir} already holds a store; the demo goes only into an empty one",
              file=sys.stderr)
        return 1
    atlas.ensure_data()
    print(f"demo city written to {atlas.settings.data_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="what the store holds").set_defaults(func=cmd_info)
    sub.add_parser("demo", help="generate the demo city into an empty data directory").set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    return args.func(Atlas(load_settings()), args)


if __name__ == "__main__":
    sys.exit(main())
