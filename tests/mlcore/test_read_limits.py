"""Hostile files are refused while they are read, at the limit they cross, never after reading them whole."""
from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlcore.data.read_limits import LimitError, ReadLimits
from mlcore.data.readers import count_rows, iter_chunks, preview

LIMITS = ReadLimits(max_bytes=8 << 20, max_line_bytes=64 << 10, max_columns=50, max_rows=1000)


def endless_line_gz(path, megabytes=40):
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"id,title\n")
        block = b"x" * (1 << 20)
        for _ in range(megabytes):
            handle.write(block)
    return path


def test_one_endless_line_is_refused_after_reading_no_more_than_the_line_limit(tmp_path):
    path = endless_line_gz(tmp_path / "endless.csv.gz")
    with pytest.raises(LimitError, match="Line 2 .* longer than 0.1 MB per line") as caught:
        preview(path, limits=LIMITS)
    assert caught.value.limit == "line"
    with pytest.raises(LimitError, match="longer than"):
        count_rows(path, limits=LIMITS)


def test_too_many_rows_stop_the_reader_at_the_limit(tmp_path):
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 5000))
    assert preview(path, limits=LIMITS)[0] == ["a", "b"]  # a preview reads only the first rows
    seen = 0
    with pytest.raises(LimitError, match="more than 1,000 rows") as caught:
        for chunk in iter_chunks(path, chunk_rows=100, limits=LIMITS):
            seen += len(chunk)
    assert caught.value.limit == "rows" and seen <= 1000
    with pytest.raises(LimitError, match="more than 1,000 rows"):
        count_rows(path, limits=LIMITS)
    assert count_rows(path, limits=LIMITS, stop_after=10) == 11


def test_too_much_decompressed_data_is_refused_while_decompressing(tmp_path):
    path = tmp_path / "big.jsonl.gz"
    line = json.dumps({"id": "A", "title": "y" * 1000}).encode() + b"\n"
    path.write_bytes(gzip.compress(line * 10_000))  # 10 MB once decompressed
    with pytest.raises(LimitError, match="more than 8.0 MB once decompressed"):
        count_rows(path, limits=ReadLimits(max_bytes=8 << 20))


def test_a_wide_csv_is_refused_from_its_header_before_any_frame_is_built(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" for _ in range(5000)) + "\n")
    with pytest.raises(LimitError, match="5,000 columns; the limit is 50 columns"):
        preview(path, limits=LIMITS)


def test_wide_json_lines_are_refused_by_their_keys(tmp_path):
    path = tmp_path / "wide.jsonl"
    path.write_text(json.dumps({f"k{i}": i for i in range(100)}) + "\n")
    with pytest.raises(LimitError, match="100 columns"):
        preview(path, limits=LIMITS)


def test_a_gzipped_parquet_bomb_is_refused_while_it_is_decompressed_to_disk(tmp_path):
    plain = tmp_path / "bomb.parquet"
    table = pa.table({"id": pa.array(["A" * 100] * 200_000)})  # 20 MB uncompressed, no dictionary
    pq.write_table(table, plain, compression="none", use_dictionary=False)
    path = tmp_path / "bomb.parquet.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(LimitError, match="once decompressed"):
        preview(path, limits=LIMITS)
    assert not list(tmp_path.glob(".unpacked-*")), "the temporary file is removed"


def test_parquet_limits_come_from_the_footer(tmp_path):
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(2000)]}), path)
    with pytest.raises(LimitError, match="more than 1,000 rows"):
        preview(path, limits=LIMITS)
    small = tmp_path / "ok.parquet.gz"
    pq.write_table(pa.table({"id": ["A1"], "title": ["Mug"]}), tmp_path / "ok.parquet")
    small.write_bytes(gzip.compress((tmp_path / "ok.parquet").read_bytes()))
    assert preview(small, limits=LIMITS) == (["id", "title"], [["A1", "Mug"]])
    assert count_rows(small, limits=LIMITS) == 1


def test_chunks_shrink_as_columns_grow(tmp_path):
    path = tmp_path / "w.csv"
    columns = 1000
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n"
                    + ("," * (columns - 1) + "\n") * 1200)
    sizes = [len(c) for c in iter_chunks(path, chunk_rows=50_000)]
    assert max(sizes) == 500 and sum(sizes) == 1200  # 500,000 cells per chunk at most
