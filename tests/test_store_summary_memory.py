"""The store's summaries after a write start from the tables the same process wrote last, not from re-reading them.

Why: every write that adds values rewrites each summary as one sorted file;
the last one (300,000 rows on the large city) was read back from disk although
the writer had just made it. The files stay what a rebuild from the values
gives, and a process that did not write them still reads them.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from atlas.services.context import Atlas
from atlas.store import store as store_module
from tests.test_store import _add_version, _summary_frame, _without_summary_files


def test_a_second_write_starts_from_the_summaries_in_memory_and_writes_what_a_rebuild_gives(scratch_atlas,
                                                                                             monkeypatch):
    atlas = scratch_atlas
    with atlas.store.writing() as tx:
        _add_version(tx, "bev_u6", "0101", "2030", 7.0, "draft")
    first = atlas.store.manifest()["summaries"]
    read = []
    real = store_module.pq.read_table

    def spy(path, *args, **kwargs):
        read.append(str(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(store_module.pq, "read_table", spy)
    with atlas.store.writing() as tx:
        _add_version(tx, "bev_u6", "0102", "2031", 8.0, "draft")
    assert not [p for p in read if any(p.endswith(first[name]) for name in store_module.SUMMARIES)]
    second = atlas.store.manifest()["summaries"]

    other = Atlas(dataclasses.replace(atlas.settings))  # another process: nothing in memory, reads the files
    with other.store.writing() as tx:
        _add_version(tx, "bev_u6", "0103", "2032", 9.0, "draft")
    assert [p for p in read if any(p.endswith(second[name]) for name in store_module.SUMMARIES)]
    monkeypatch.undo()

    latest = pd.read_parquet(atlas.store.data_dir / atlas.store.manifest()["summaries"]["latest_cells"])
    assert {("0102", "2031"), ("0103", "2032")} <= set(zip(latest["area_id"], latest["period"]))
    from_files = Atlas(dataclasses.replace(atlas.settings))
    written = {name: _summary_frame(from_files, name) for name in store_module.SUMMARIES}
    rebuilt = _without_summary_files(from_files)
    for name in store_module.SUMMARIES:
        want = _summary_frame(rebuilt, name)
        assert len(want) > 0
        pd.testing.assert_frame_equal(written[name], want)
