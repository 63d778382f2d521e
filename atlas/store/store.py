"""The store: immutable Parquet files, one manifest, DuckDB as the query engine.

Why this shape: several web worker processes read while one upload writes.
Every write produces new Parquet files and then atomically replaces
`manifest.json` (write to a temp file, `os.replace`). Readers therefore see
either the old or the new manifest, never half a version; files of a writer
that died before the swap are never referenced. Writers serialise on a lock
file. Each process opens its own in-memory DuckDB connection lazily (after a
gunicorn fork, never at import) and hands out one cursor per thread; views
are re-pointed when the manifest generation changes.
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from atlas.store.shared_state import MANIFEST, FilePointer, shared_for

# Tables held as a single file each (rewritten whole on change; all small).
SINGLE_TABLES = ("boundary_sets", "areas", "versions", "points")
# Single-file tables a store may not have yet (older stores, cities without accounts).
OPTIONAL_TABLES = ("users", "tokens", "catalog", "grids", "crosswalks")
# Map geometry per zoom band of a big level, written with its boundary set (atlas/services/boundaries.py,
# `write_map_bands`): the manifest's `map_bands`, {set_id: {level: {band name: file}}}, each file (area_id,
# geometry as GeoJSON text). A store without them still maps: the bands are then built when asked.
MAP_BANDS = "map_bands"
# Vector tiles of a level too big for GeoJSON (atlas/services/tiles.py): the manifest's `map_tiles`,
# {set_id: {level: {scheme name: file}}}, each an MBTiles (SQLite) file under tables/, written with the set.
MAP_TILES = "map_tiles"
# `grids`: the areas of every parallel planning grid (grid_id, area_id, name, WKB geometry); `crosswalks`:
# (grid_id, grid_area, base_area, weight). Their descriptions are the manifest's `grids` (atlas/services/crosswalk.py).
# Schema of the values table: one Parquet file per version, appended.
VALUE_SCHEMA = pa.schema([
    ("indicator_id", pa.string()),
    ("area_id", pa.string()),
    ("period", pa.string()),
    ("period_end", pa.date32()),
    ("value", pa.float64()),
    ("numerator", pa.float64()),
    ("denominator", pa.float64()),
    ("status", pa.string()),
    ("version_id", pa.int64()),
])
POINT_SCHEMA = pa.schema([
    ("point_id", pa.string()),
    ("layer", pa.string()),
    ("name", pa.string()),
    ("area_id", pa.string()),
    ("capacity", pa.int64()),
    ("lon", pa.float64()),
    ("lat", pa.float64()),
])
VALUE_ROW_GROUP = 4096
# "Not assignable" cases of a parent area (nicht zuzuordnen) are stored at the base level under
# the parent's key plus this suffix: they count in the parent's and its ancestors' totals and
# are never drawn. `base_areas` lists one such slot per parent.
UNASSIGNED_SUFFIX = "-nz"
# Derived from `areas` once per state (any depth, any level names): the base level of every
# set (areas nobody is parent of, plus one unassigned slot per parent) and every base area's
# ancestors, so aggregation to any level is one join and one GROUP BY.
HIERARCHY_SQL = f"""
    CREATE OR REPLACE TABLE base_areas AS
    WITH parents AS (SELECT DISTINCT set_id, parent_id AS area_id FROM areas WHERE parent_id IS NOT NULL)
    SELECT a.set_id, a.area_id, a.name, a.parent_id, FALSE AS unassigned FROM areas a
    WHERE NOT EXISTS (SELECT 1 FROM parents p WHERE p.set_id = a.set_id AND p.area_id = a.area_id)
    UNION ALL
    SELECT a.set_id, a.area_id || '{UNASSIGNED_SUFFIX}', 'nicht zuordenbar (' || a.name || ')', a.area_id, TRUE
    FROM areas a JOIN parents p ON p.set_id = a.set_id AND p.area_id = a.area_id;
    CREATE OR REPLACE TABLE area_ancestors AS
    WITH RECURSIVE walk(set_id, area_id, ancestor_id) AS (
        SELECT set_id, area_id, parent_id FROM base_areas WHERE parent_id IS NOT NULL
        UNION ALL
        SELECT w.set_id, w.area_id, a.parent_id FROM walk w
        JOIN areas a ON a.set_id = w.set_id AND a.area_id = w.ancestor_id WHERE a.parent_id IS NOT NULL
    )
    SELECT w.set_id, w.area_id, w.ancestor_id, a.level AS ancestor_level
    FROM walk w JOIN areas a ON a.set_id = w.set_id AND a.area_id = w.ancestor_id;
"""


class _WallClock:
    """Real local time, for a store opened without the app's clock (scripts, older callers)."""

    @staticmethod
    def now() -> datetime:
        return datetime.now().replace(microsecond=0)
# Summaries of the value files (`Store.summary`): the SQL over `{values}` (a relation
# with a `filename` column) and the order the summary is kept in.
SUMMARIES = {
    # Each (version, indicator, area)'s cell at its latest period: the area profile.
    "latest_cells": ("""
        SELECT filename, indicator_id, area_id, period, value, numerator, denominator, status, version_id
        FROM {values}
        QUALIFY row_number() OVER (PARTITION BY version_id, indicator_id, area_id ORDER BY period DESC) = 1""",
        "area_id, indicator_id"),
    # Which periods each version holds: the catalogue's period lists.
    "version_periods": ("SELECT DISTINCT filename, indicator_id, version_id, period FROM {values}",
                        "indicator_id, period"),
}
# Summaries read straight from their file when it covers every value file: the latest cells are asked for one
# area at a time and the file is sorted by area in small row groups, so DuckDB reads a row group or two. Held
# in memory they cost every worker the whole file at its first profile (300,000 rows at 12 M values, 3.3 M at
# 66 M: seconds, and hundreds of MB per worker).
READ_IN_PLACE = frozenset({"latest_cells"})
VERSION_SCHEMA = pa.schema([
    ("version_id", pa.int64()),
    ("indicator_id", pa.string()),
    ("state", pa.string()),
    ("created_by", pa.string()),
    ("created_at", pa.timestamp("s")),
    ("file_name", pa.string()),
    ("checksum", pa.string()),
    ("row_count", pa.int64()),
    ("note", pa.string()),
    # The release workflow: who released when, and a scheduled release (embargo).
    ("released_by", pa.string()),
    ("released_at", pa.timestamp("s")),
    ("release_to", pa.string()),
    ("release_at", pa.timestamp("s")),
    # What the version changed against the cells before it (added, changed, not delivered again).
    ("n_added", pa.int64()),
    ("n_changed", pa.int64()),
    ("n_removed", pa.int64()),
    # The boundary set the version's cells are keyed on when the delivery named one (publisher data on an
    # older set, e.g. Berlin's GSSA 2022 on the 2006 LOR units); null: the set valid at each period's end.
    ("set_id", pa.string()),
    # A projection's variant ("Hauptvariante 2025"); null: observed figures (also every version of older stores).
    ("projection", pa.string()),
])


class StoreError(RuntimeError):
    pass


class Store:
    """Access to one data directory. Cheap to create; connections are lazy."""

    def __init__(self, data_dir: Path, catalog_frame: pd.DataFrame, clock=None, pointer=None):
        self.data_dir = Path(data_dir)
        # Where the current manifest and the writer lock live: `manifest.json` and a lock file (embedded),
        # or PostgreSQL when the app was started with ATLAS_DATABASE_URL (atlas/store/shared_state.py).
        shared = shared_for(self.data_dir) if pointer is None else None
        self._pointer = pointer or (shared.pointer if shared is not None else FilePointer(self.data_dir))
        # Anything with `now()` (atlas.clock.Clock): scheduled releases fall due by it.
        self.clock = clock or _WallClock()
        self._catalog = catalog_frame
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._generation: tuple[int, int] | None = None  # the state_key the DuckDB tables were built for
        self._manifest_cache: tuple[tuple, dict] | None = None
        self._schedule: tuple[int, list] | None = None
        # Per summary, per value file (immutable): that file's part of the summary.
        self._summary_parts: dict[str, dict[str, pa.Table]] = {}
        self._summaries_built: dict[str, tuple[int, int]] = {}  # summary name → state key it was built for
        # The summary files this process wrote last, by store-relative name (files are immutable): the next
        # write starts from them instead of reading back what it has in memory.
        self._written_summaries: dict[str, pa.Table] = {}
        self._unindexed: dict[str, set[str]] = {}  # value index of files an older manifest does not list

    # ----------------------------------------------------------------- reading
    @property
    def manifest_path(self) -> Path:
        return self.data_dir / MANIFEST

    def exists(self) -> bool:
        return self._pointer.exists()

    def manifest(self) -> dict:
        """The current manifest; re-read only when it was replaced (every request asks: a `stat`, or
        one small row of PostgreSQL)."""
        try:
            stamp = self._pointer.stamp()
            cached = self._manifest_cache
            if cached is not None and cached[0] == stamp:
                return cached[1]
            manifest = self._pointer.read()
        except FileNotFoundError as exc:
            raise StoreError(f"no store in {self.data_dir} (manifest.json missing)") from exc
        self._manifest_cache = (stamp, manifest)
        return manifest

    def generation(self) -> int:
        return int(self.manifest()["generation"])

    def state_key(self) -> tuple[int, int]:
        """Changes when the manifest changes or a scheduled release falls due.

        Everything derived from the store (DuckDB tables, cached answers) is
        valid for one state key: an embargoed release becomes visible at its
        time without anyone writing to the store.
        """
        manifest = self.manifest()
        generation = int(manifest["generation"])
        if self._schedule is None or self._schedule[0] != generation:
            versions = _read_single(self.data_dir, manifest, "versions")
            times = [] if versions is None or "release_at" not in versions else sorted(
                pd.Timestamp(t).to_pydatetime() for t in versions["release_at"].dropna())
            self._schedule = (generation, times)
        return generation, bisect.bisect_right(self._schedule[1], self.clock.now())

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The process's connection, opened after any fork and never shared across one."""
        if self._conn is None or self._pid != os.getpid():
            conn = duckdb.connect(":memory:", config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                # Queries here are small and many, and requests already run in parallel
                # (workers × threads); a second DuckDB thread per query measured no faster.
                "threads": 1,
            })
            # Value files are immutable: keep their footers instead of re-reading them per query.
            conn.execute("SET parquet_metadata_cache = true")
            self._conn, self._pid, self._generation = conn, os.getpid(), None
            self._local = threading.local()
            self._summaries_built = {}
        return self._conn

    def _refresh_views(self, conn: duckdb.DuckDBPyConnection, manifest: dict) -> None:
        tables = manifest["tables"]
        # The catalogue: configured indicators plus those created through uploads.
        catalog = self._catalog
        created = _read_single(self.data_dir, manifest, "catalog")
        if created is not None and len(created):
            created = created.reindex(columns=catalog.columns)
            for column in ("same_count_as", "shared_with"):  # lists in the stored table, text for SQL
                created[column] = [v if isinstance(v, str) else ",".join(map(str, v)) if hasattr(v, "__iter__")
                                   else "" for v in created[column]]
            catalog = pd.concat([catalog, created], ignore_index=True)
        conn.register("_catalog_df", catalog)
        conn.execute("CREATE OR REPLACE TABLE indicators AS SELECT * FROM _catalog_df")
        conn.unregister("_catalog_df")
        for name in SINGLE_TABLES + tuple(t for t in OPTIONAL_TABLES if tables.get(t)):
            # Small tables live in memory (copied once per manifest generation), so
            # queries do not decode Parquet for them; the values stay on disk, and so do the areas' shapes
            # (`area_shapes`): 11,000 areas' WKB took 0.7 s and ~40 MB of every new worker.
            if name == "versions":
                conn.register("_versions_df", effective_versions(_read_single(self.data_dir, manifest, name), self.clock.now()))
                conn.execute("CREATE OR REPLACE TABLE versions AS SELECT * FROM _versions_df")
                conn.unregister("_versions_df")
                continue
            path = self.data_dir / tables[name]
            if name == "areas":  # the shapes stay in the file: read once per level and kept by the services
                conn.execute(f"CREATE OR REPLACE TABLE areas AS SELECT * EXCLUDE (geometry) FROM "
                             f"read_parquet('{_sql_path(path)}')")
                conn.execute(f"CREATE OR REPLACE VIEW area_shapes AS SELECT set_id, area_id, level, geometry "
                             f"FROM read_parquet('{_sql_path(path)}')")
                continue
            conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{_sql_path(path)}')")
        conn.execute(HIERARCHY_SQL)
        if tables["values"]:
            conn.execute("CREATE OR REPLACE VIEW indicator_values AS SELECT * FROM "
                         + self._read_parquet(tables["values"]))
        else:
            empty = VALUE_SCHEMA.empty_table()
            conn.register("_empty_values", empty)
            conn.execute("CREATE OR REPLACE TABLE _values_empty AS SELECT * FROM _empty_values")
            conn.unregister("_empty_values")
            conn.execute("CREATE OR REPLACE VIEW indicator_values AS SELECT * FROM _values_empty")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this thread whose views match the current manifest."""
        with self._lock:
            conn = self._connection()
            key = self.state_key()
            if key != self._generation:
                self._refresh_views(conn, self.manifest())
                self._generation = key
            cur = getattr(self._local, "cursor", None)
            if cur is None:
                cur = conn.cursor()
                self._local.cursor = cur
        return cur

    def summary(self, name: str) -> str:
        """A relation summarising every value file (see SUMMARIES): an in-memory table's name, or for a summary
        in READ_IN_PLACE whose file covers every value file, `read_parquet(...)` of that file.

        Why: some questions cut across the value files' sort order (all
        indicators of one area; which periods exist) and would read every
        file per request, seconds on a large city. Each write that adds
        values also writes every summary as one sorted file (the manifest's
        `summaries`), so a new worker reads one small file per summary
        instead of every value. Value files a summary file does not cover
        (older stores) are summarised from their values once per process,
        each file on its own, so a new version adds only its own file's
        part. Rights are still applied per query: summaries keep the version id.
        """
        if name not in SUMMARIES:
            raise StoreError(f"unknown summary {name!r}")
        self.cursor()  # views match the current state
        with self._lock:
            key = self.state_key()
            if self._summaries_built.get(name) == key:
                return name
            conn = self._connection()
            manifest = self.manifest()
            files = list(manifest["tables"]["values"])
            stored, covered = stored_summaries(manifest)
            rest = files[covered:]
            if covered and not rest and name in READ_IN_PLACE:  # the usual case, a big summary: the file itself
                return f"read_parquet('{_sql_path(self.data_dir / stored[name])}')"
            if covered and not rest:  # the usual case: one file, written sorted
                conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM "
                             f"read_parquet('{_sql_path(self.data_dir / stored[name])}')")
            else:
                self._build_summary(conn, name, rest, stored[name] if covered else None)
            self._summaries_built[name] = key
        return name

    def _build_summary(self, conn: duckdb.DuckDBPyConnection, name: str, files: list[str],
                       stored: str | None) -> None:
        """A summary from a summary file (covering the first value files) plus in-memory parts for `files`."""
        done = self._summary_parts.setdefault(name, {})
        new = [f for f in files if f not in done]
        if new:
            part = conn.sql(SUMMARIES[name][0].format(values=self._read_parquet(new, filename=True))).to_arrow_table()
            done.update(_split_by_file(part, {str(self.data_dir / f): f for f in new}))
        self._summary_parts[name] = done = {f: done[f] for f in files}
        parts = ([pq.read_table(self.data_dir / stored)] if stored else []) + list(done.values())
        if parts:
            conn.register("_summary_arrow", pa.concat_tables(parts, promote_options="permissive"))
            source = "_summary_arrow"
        else:  # no values yet: the summary's columns from the empty values table
            select = SUMMARIES[name][0]
            source = (f"(SELECT * EXCLUDE (filename) FROM "
                      f"({select.format(values='(SELECT *, NULL AS filename FROM indicator_values)')}))")
        conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {source} ORDER BY {SUMMARIES[name][1]}")
        if parts:
            conn.unregister("_summary_arrow")

    def write_missing_summaries(self) -> bool:
        """Write the summary files for value files they do not cover yet (an older store); whether it wrote.

        Not needed for reading (such files are summarised in memory once per
        process), but afterwards a new worker starts without reading every value.
        """
        with self.writing() as tx:
            return tx.refresh_summaries()

    def values_relation(self, indicator_ids: list[str]) -> str:
        """SQL relation over only the value files that hold these indicators.

        DuckDB pays a fixed cost per Parquet file; one indicator's rows sit in
        one or a few version files. Files missing from the index (older
        stores) are indexed once per process by reading them.
        """
        wanted = set(indicator_ids)
        files = [f for f, ids in self._value_index().items() if wanted & ids]
        if not files:
            return "(SELECT * FROM indicator_values WHERE FALSE)"
        return self._read_parquet(files)

    def _value_index(self) -> dict[str, set[str]]:
        """Indicators per value file: from the manifest, or read once from files it does not list."""
        manifest = self.manifest()
        index = manifest.get("value_index", {})
        out = {}
        for f in manifest["tables"]["values"]:
            if f in index:
                out[f] = set(index[f])
            elif f in self._unindexed:
                out[f] = self._unindexed[f]
            else:
                table = pq.read_table(self.data_dir / f, columns=["indicator_id"])
                out[f] = self._unindexed[f] = set(table.column("indicator_id").unique().to_pylist())
        return out

    def _read_parquet(self, files: list[str], filename: bool = False) -> str:
        """`read_parquet([...])` over store-relative file names (with each row's file path: `filename`)."""
        return ("read_parquet([" + ", ".join(f"'{_sql_path(self.data_dir / f)}'" for f in files) + "]"
                + (", filename = true)" if filename else ")"))

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.cursor().execute(sql, params or []).df()

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A whole single-file table with pandas (None if the store has none yet)."""
        return _read_single(self.data_dir, self.manifest(), name)

    def map_band(self, set_id: str, level: str, band: str) -> pa.Table | None:
        """A zoom band stored with a boundary set (MAP_BANDS), or None when this store has none for it."""
        rel = ((self.manifest().get(MAP_BANDS) or {}).get(set_id) or {}).get(level, {}).get(band)
        return pq.read_table(self.data_dir / rel) if rel else None

    def map_tiles(self, set_id: str, level: str, scheme: str) -> str | None:
        """The store-relative MBTiles file of a set's level (MAP_TILES), or None when this store has none."""
        rel = ((self.manifest().get(MAP_TILES) or {}).get(set_id) or {}).get(level, {}).get(scheme)
        return rel if isinstance(rel, str) and rel else None

    # ----------------------------------------------------------------- writing
    @contextmanager
    def writing(self) -> Iterator[Transaction]:
        """Serialise writers across processes (and hosts, with PostgreSQL); the manifest swap is the commit."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._pointer.locked() as lock:
            manifest = lock.current() or _empty_manifest()  # read under the lock, never from a cache
            tx = Transaction(self, manifest)
            tx._pointer = lock
            try:
                yield tx
                if tx.dirty or tx.manifest != manifest:  # new files, or a manifest-only change (city, levels)
                    tx._commit()
            except BaseException:
                tx._discard()
                raise


class Transaction:
    """Collects new files; nothing is visible to readers until `_commit`."""

    def __init__(self, store: Store, manifest: dict):
        self.store = store
        self.manifest = json.loads(json.dumps(manifest))
        self.dirty = False
        self._new_summaries: dict[str, dict[str, pa.Table]] = {}  # per value file added here: its summaries
        self._summary_tables: dict[str, pa.Table] = {}  # the summary files written here, by name
        self._pointer = store._pointer  # the lock holder's handle (set by `Store.writing`): `swap` commits
        self._summaries_due = False
        self._written: list[Path] = []  # this write's files, removed again should it fail before the swap
        self._swapping = False

    def _discard(self) -> None:
        """A write that failed before the manifest swap (a full disk, an error in the caller) leaves no file
        behind that no manifest lists. Once the swap has begun its files may be the store's: they stay."""
        if self._swapping:
            return
        for path in self._written:
            path.unlink(missing_ok=True)

    def _write(self, table: pa.Table, folder: str, stem: str, row_group_size: int | None = None) -> str:
        return self._write_file(f"{folder}/{stem}-{uuid.uuid4().hex[:12]}.parquet", lambda tmp: pq.write_table(
            table, tmp, compression="zstd", row_group_size=row_group_size))

    def _write_file(self, rel: str, build) -> str:
        """A new immutable file at `rel`: `build(tmp)` writes it as a `.part`, synced and renamed, and
        removed again if the write fails before the manifest swap."""
        path = self.store.data_dir / rel
        self.dirty = True
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        try:
            build(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException:  # a full disk halfway through the file: no half-written part stays behind
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, path)
        self._written.append(path)
        return rel

    def replace_table(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        if name not in SINGLE_TABLES + OPTIONAL_TABLES:
            raise StoreError(f"unknown table {name!r}")
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=False)
        self.manifest["tables"][name] = self._write(table, "tables", name)

    def has_table(self, name: str) -> bool:
        return bool(self.manifest["tables"].get(name))

    def put_map_band(self, set_id: str, level: str, band: str, table: pa.Table) -> None:
        """Store one zoom band of a set's level (MAP_BANDS); like every file here, listed only at the swap."""
        rel = self._write(table, "tables", "map-band")
        self.manifest.setdefault(MAP_BANDS, {}).setdefault(set_id, {}).setdefault(level, {})[band] = rel

    def has_map_band(self, set_id: str, level: str, band: str) -> bool:
        return bool(((self.manifest.get(MAP_BANDS) or {}).get(set_id) or {}).get(level, {}).get(band))

    def put_map_tiles(self, set_id: str, level: str, scheme: str, build) -> str:
        """Store a level's vector tiles (MAP_TILES): `build(path)` writes the MBTiles file; listed only at the swap.

        Written as a `.part` file, synced and renamed like the Parquet files,
        and removed again if the write fails before the manifest swap.
        """
        rel = self._write_file(f"tables/map-tiles-{uuid.uuid4().hex[:12]}.mbtiles", build)
        self.manifest.setdefault(MAP_TILES, {}).setdefault(set_id, {}).setdefault(level, {})[scheme] = rel
        return rel

    def has_map_tiles(self, set_id: str, level: str, scheme: str) -> bool:
        return bool(((self.manifest.get(MAP_TILES) or {}).get(set_id) or {}).get(level, {}).get(scheme))

    def put_grid(self, meta: dict, areas: pd.DataFrame, weights: pd.DataFrame) -> None:
        """Add or replace one parallel grid: its areas, its crosswalk and its description, together."""
        for name, frame in (("grids", areas), ("crosswalks", weights)):
            old = self.read(name)
            frame = frame.assign(grid_id=meta["id"])
            if old is not None:
                frame = pd.concat([old[old["grid_id"] != meta["id"]], frame], ignore_index=True)
            self.replace_table(name, frame)
        self.manifest["grids"] = [g for g in self.manifest.get("grids", []) if g["id"] != meta["id"]] + [meta]

    def ensure_empty_tables(self) -> None:
        """A new store starts with empty versions and points (a city may have neither yet)."""
        for name, schema in (("versions", VERSION_SCHEMA), ("points", POINT_SCHEMA)):
            if not self.has_table(name):
                self.replace_table(name, schema.empty_table())

    def read(self, name: str) -> pd.DataFrame | None:
        """The table as this transaction sees it, its own writes included (None if never written)."""
        return _read_single(self.store.data_dir, self.manifest, name)

    def next_version_id(self) -> int:
        self.manifest["last_version_id"] = int(self.manifest.get("last_version_id", 0)) + 1
        return self.manifest["last_version_id"]

    def add_values(self, version_id: int, table: pa.Table | pd.DataFrame) -> None:
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, schema=VALUE_SCHEMA, preserve_index=False)
        # Sorted by indicator and period in small row groups: the map asks for one
        # indicator and period, and DuckDB skips row groups by their min/max stats.
        table = table.select(VALUE_SCHEMA.names).cast(VALUE_SCHEMA).sort_by(
            [("indicator_id", "ascending"), ("period", "ascending"), ("area_id", "ascending")])
        rel = self._write(table, "values", f"v{version_id:08d}", row_group_size=VALUE_ROW_GROUP)
        self.manifest["tables"]["values"].append(rel)
        ids = sorted(set(table.column("indicator_id").to_pylist()))
        self.manifest.setdefault("value_index", {})[rel] = ids
        self._new_summaries[rel] = summarise(table)
        self._summaries_due = True

    def refresh_summaries(self) -> bool:
        """Have the summary files rewritten at commit if they miss value files; whether they do."""
        stored, covered = stored_summaries(self.manifest)
        n_values = len(self.manifest["tables"]["values"])
        if n_values and (covered < n_values or not stored):
            self._summaries_due = self.dirty = True
        return self._summaries_due

    def _write_summaries(self) -> None:
        """Every summary over every value file as one sorted file each, named in the manifest (`summaries`).

        The last summary files plus this write's new files' parts (value
        files neither covers, in an older store, are summarised from disk
        once here). Sorted as `Store.summary` keeps them, so a reader loads
        them as they are.
        """
        values = self.manifest["tables"]["values"]
        stored, covered = stored_summaries(self.manifest)
        todo = [f for f in values[covered:] if f not in self._new_summaries]
        old = summarise(self.store._read_parquet(todo)) if todo else {}
        conn = _private_connection()
        try:
            out: dict = {"covers": len(values), "last": values[-1]}
            for name, (_, order) in SUMMARIES.items():
                parts = [self._stored_summary(stored[name])] if covered else []
                parts += ([old[name]] if old else []) + [self._new_summaries[f][name] for f in values[covered:]
                                                         if f in self._new_summaries]
                conn.register("_parts", pa.concat_tables(parts, promote_options="permissive"))
                table = conn.sql(f"SELECT * FROM _parts ORDER BY {order}").to_arrow_table()
                conn.unregister("_parts")
                out[name] = self._write(table, "tables", f"summary-{name}", row_group_size=VALUE_ROW_GROUP)
                self._summary_tables[out[name]] = table
        finally:
            conn.close()
        self.manifest["summaries"] = out

    def _stored_summary(self, rel: str) -> pa.Table:
        """A summary file as this process wrote it, if it did (the file holds that table), else read."""
        table = self.store._written_summaries.get(rel)
        return table if table is not None else pq.read_table(self.store.data_dir / rel)

    def _commit(self) -> None:
        missing = [n for n in SINGLE_TABLES if not self.manifest["tables"].get(n)]
        if missing:
            raise StoreError(f"cannot commit: tables {missing} were never written")
        if self._summaries_due:
            self._write_summaries()
        self.manifest["generation"] = int(self.manifest["generation"]) + 1
        self._swapping = True
        self._pointer.swap(self.manifest)
        if self._summary_tables:  # only once they are the store's
            self.store._written_summaries = self._summary_tables


def versions_table(versions: pd.DataFrame | None) -> pd.DataFrame:
    """The stored versions table with every column of VERSION_SCHEMA (older stores lack the workflow columns)."""
    frame = VERSION_SCHEMA.empty_table().to_pandas() if versions is None else versions.copy()
    for name in VERSION_SCHEMA.names:
        if name not in frame:
            frame[name] = pd.Series([None] * len(frame), dtype="object")
    return pa.Table.from_pandas(frame[VERSION_SCHEMA.names], schema=VERSION_SCHEMA, preserve_index=False).to_pandas()


def effective_versions(versions: pd.DataFrame | None, now: datetime) -> pd.DataFrame:
    """The versions as readers see them at `now`: scheduled releases that are due applied to `state`."""
    frame = versions_table(versions)
    due = frame["release_to"].notna() & frame["release_at"].notna() & (frame["release_at"] <= now)
    frame.loc[due, "state"] = frame.loc[due, "release_to"]
    return frame


def summarise(values: pa.Table | str) -> dict[str, pa.Table]:
    """Every summary (SUMMARIES) of some value rows: an Arrow table, or a `read_parquet(...)` relation."""
    conn = _private_connection()
    try:
        if isinstance(values, pa.Table):
            conn.register("_values", values)
            values = "_values"
        out = {}
        for name, (select, order) in SUMMARIES.items():
            sql = select.format(values=f"(SELECT *, NULL::VARCHAR AS filename FROM {values})")
            out[name] = conn.sql(f"SELECT * EXCLUDE (filename) FROM ({sql}) ORDER BY {order}").to_arrow_table()
        return out
    finally:
        conn.close()


def stored_summaries(manifest: dict) -> tuple[dict, int]:
    """The manifest's summary files and how many of the first value files they cover (0: none, or not all).

    Value files are only ever appended, so the summaries cover a prefix of the
    list; the last file they cover is named too, and a list that no longer
    has it there (rewritten by something else) makes them unusable, not wrong.
    """
    stored = manifest.get("summaries") or {}
    values = manifest["tables"]["values"]
    covers = int(stored.get("covers", 0))
    if not all(isinstance(stored.get(name), str) for name in SUMMARIES) or not 0 < covers <= len(values) \
            or values[covers - 1] != stored.get("last"):
        return {}, 0
    return stored, covers


def map_band_files(manifest: dict) -> list[str]:
    """Every stored zoom band file the manifest names (MAP_BANDS)."""
    return [rel for levels in (manifest.get(MAP_BANDS) or {}).values() for bands in levels.values()
            for rel in bands.values() if isinstance(rel, str) and rel]


def map_tiles_files(manifest: dict) -> list[str]:
    """Every stored vector tile file the manifest names (MAP_TILES)."""
    return [rel for levels in (manifest.get(MAP_TILES) or {}).values() for schemes in levels.values()
            for rel in schemes.values() if isinstance(rel, str) and rel]


def _private_connection() -> duckdb.DuckDBPyConnection:
    """A throwaway DuckDB for a writer's own work (never the readers' connection)."""
    return duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False, "threads": 1})


def _split_by_file(summary: pa.Table, names: dict[str, str]) -> dict[str, pa.Table]:
    """Rows of a summary per store-relative file, by its `filename` column (a file without rows gets none)."""
    out = {rel: summary.slice(0, 0) for rel in names.values()}
    summary = summary.sort_by("filename")
    start = 0
    for run in pc.value_counts(summary.column("filename")):
        count = run["counts"].as_py()
        out[names[run["values"].as_py()]] = summary.slice(start, count)
        start += count
    return {rel: part.drop_columns(["filename"]) for rel, part in out.items()}


def _empty_manifest() -> dict:
    return {"format": 1, "generation": 0, "last_version_id": 0,
            "tables": {**{n: None for n in SINGLE_TABLES}, "values": []}}


def _read_single(data_dir: Path, manifest: dict, name: str) -> pd.DataFrame | None:
    rel = manifest["tables"].get(name)
    return pd.read_parquet(data_dir / rel) if rel else None


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
