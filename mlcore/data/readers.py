"""Readers for tabular upload files: CSV, JSON Lines and Parquet, each optionally gzipped.

The format comes from the file name (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``,
plus ``.gz``). Every reader yields chunks of text columns (``str``, empty string for
a missing value) with one extra int column ``_row``: the row number an operator
finds in the file (CSV counts the header as row 1, as a spreadsheet does; JSON Lines
counts lines; Parquet counts data rows from 1). Problems that make the whole file
unreadable raise :class:`ReadError` with a message that says how to fix them.

Every reader takes optional :class:`~mlcore.data.read_limits.ReadLimits`, checked while it reads
(decompressed bytes and line length on every block, columns before the first frame is built, rows
per chunk): memory stays one chunk whatever the file holds, and chunks shrink as columns grow.
A gzipped Parquet file is decompressed block by block into a temporary file beside it (Parquet needs
random access), never into memory.

>>> detect_format("orders.CSV.gz")
TableFormat(kind='csv', gzipped=True)
"""
from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd

from mlcore.data.read_limits import LimitError, ReadError, ReadLimits, limited

ROW = "_row"
Kind = Literal["csv", "jsonl", "parquet"]
_SUFFIXES: dict[str, Kind] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                              ".parquet": "parquet", ".pq": "parquet"}
SUPPORTED = "CSV (.csv), JSON Lines (.jsonl) or Parquet (.parquet), optionally gzipped (.gz)"


@dataclass(frozen=True)
class TableFormat:
    kind: Kind
    gzipped: bool


def detect_format(name: str) -> TableFormat:
    """The format from a file name's extension; :class:`ReadError` when unsupported."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    kind = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise ReadError(f"“{name}” is not a supported file type. Upload {SUPPORTED}.")
    return TableFormat(kind, gzipped)


def _open(path: Path, fmt: TableFormat, limits: ReadLimits | None = None, name: str = "") -> BinaryIO:
    raw = path.open("rb")
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if fmt.gzipped else raw
    return limited(stream, limits, name or path.name)  # type: ignore[arg-type]


def _header_columns(path: Path, fmt: TableFormat, limits: ReadLimits | None, name: str) -> int:
    """The number of columns the CSV header names, read alone (at most one line, bounded by the limits)."""
    most = (limits.max_line_bytes if limits and limits.max_line_bytes else 64 << 20) + 2
    try:
        with _open(path, fmt, limits, name) as stream:
            line = stream.readline(most)
    except (OSError, EOFError, zlib.error):
        return 1  # reported with a better message by the reader itself
    if limits is not None and limits.max_line_bytes is not None and len(line.rstrip(b"\r\n")) > limits.max_line_bytes:
        raise LimitError(f"Line 1 of “{name}” is longer than {limits.describe('line')}. Is it really one row per "
                         "line? Check the line endings and quoting.", "line")
    try:
        header = next(csv.reader([line.decode("utf-8-sig", errors="replace")]), [])
    except csv.Error:
        return 1
    return len(header)


def _check_start(head: bytes, name: str) -> None:
    if not head:
        raise ReadError(f"“{name}” is empty (0 bytes of data). Upload a file with a header row and data rows.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 3 and head[1:4:2] == b"\x00\x00"):
        raise ReadError(f"“{name}” is UTF-16 encoded. Save it as UTF-8 (in Excel: “CSV UTF-8”) and upload it again.")


def _encoding_error(name: str, exc: UnicodeDecodeError, near_row: int) -> ReadError:
    bad = exc.object[exc.start:exc.start + 1].hex().upper() if exc.object else "?"
    return ReadError(
        f"“{name}” is not valid UTF-8 text (byte 0x{bad} near row {near_row}); it is probably Latin-1 or "
        "Windows-1252. Save it as UTF-8 (in Excel: “CSV UTF-8”) and upload it again."
    )


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as ``object`` strings with ``""`` for missing values."""
    out = {}
    for col in frame.columns:
        series = frame[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[str(col)] = series.astype(object).where(series.notna(), "").map(_cell_text)
        else:
            out[str(col)] = series.astype("string").fillna("").astype(object)
    return pd.DataFrame(out, index=frame.index).astype("str")


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int,
                limits: ReadLimits | None = None) -> Iterator[pd.DataFrame]:
    columns = _header_columns(path, fmt, limits, name)
    if limits is not None:
        limits.check_columns(columns, name)
    chunk_rows = ReadLimits().chunk_rows(chunk_rows, columns)
    with _open(path, fmt, limits, name) as stream:
        try:
            _check_start(stream.peek(4)[:4] if hasattr(stream, "peek") else b"", name)
            reader = pd.read_csv(stream, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8",
                                 chunksize=chunk_rows, skipinitialspace=False)
            done = 0
            try:
                for chunk in reader:
                    chunk[ROW] = chunk.index.to_numpy() + 2
                    done += len(chunk)
                    yield chunk
            except UnicodeDecodeError as exc:
                raise _encoding_error(name, exc, done + 2) from None
        except UnicodeDecodeError as exc:
            raise _encoding_error(name, exc, 2) from None
        except pd.errors.EmptyDataError:
            raise ReadError(f"“{name}” has no header row. The first line must name the columns.") from None
        except pd.errors.ParserError as exc:
            raise ReadError(f"“{name}” is not well-formed CSV ({exc}). Check quoting and separators.") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(f"“{name}” could not be decompressed ({exc}). Upload an intact .gz file.") from None


def _jsonl_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int,
                  limits: ReadLimits | None = None) -> Iterator[pd.DataFrame]:
    with _open(path, fmt, limits, name) as raw:
        try:
            _check_start(raw.peek(4)[:4] if hasattr(raw, "peek") else b"", name)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict")
            records: list[dict[str, object]] = []
            rows: list[int] = []
            keys: set[str] = set()
            lineno = 0
            for lineno, line in enumerate(text, start=1):  # noqa: B007 - lineno used after the loop
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReadError(f"Line {lineno} of “{name}” is not valid JSON ({exc.msg}). "
                                    "Each line must hold one JSON object.") from None
                if not isinstance(record, dict):
                    raise ReadError(f"Line {lineno} of “{name}” is not a JSON object. "
                                    "Each line must hold one object like {\"id\": \"A1\", ...}.")
                keys.update(record)
                if limits is not None:
                    limits.check_columns(len(keys), name)
                records.append(record)
                rows.append(lineno)
                if len(records) >= ReadLimits().chunk_rows(chunk_rows, len(keys)):
                    yield _records_frame(records, rows)
                    records, rows, keys = [], [], set()
            if records:
                yield _records_frame(records, rows)
        except UnicodeDecodeError as exc:
            raise _encoding_error(name, exc, lineno + 1) from None
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(f"“{name}” could not be decompressed ({exc}). Upload an intact .gz file.") from None


def _records_frame(records: list[dict[str, object]], rows: list[int]) -> pd.DataFrame:
    frame = _as_text(pd.DataFrame.from_records(records))
    frame[ROW] = rows
    return frame


def _parquet_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int,
                    limits: ReadLimits | None = None) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        with _parquet_path(path, fmt, limits, name) as plain:
            parquet = pq.ParquetFile(plain)
            _check_parquet(parquet, limits, name)
            start = 1
            size = ReadLimits().chunk_rows(chunk_rows, parquet.metadata.num_columns)
            for batch in parquet.iter_batches(batch_size=size):
                frame = _as_text(batch.to_pandas())
                frame.index = pd.RangeIndex(start - 1, start - 1 + len(frame))
                frame[ROW] = frame.index.to_numpy() + 1
                start += len(frame)
                yield frame
    except ReadError:
        raise
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ReadError(f"“{name}” is not a readable Parquet file ({exc}). Export it again as Parquet.") from None


class _parquet_path:  # noqa: N801 - a context manager used like a function
    """The path of a plain Parquet file: ``path`` itself, or a gzipped one decompressed block by block
    (within the limits) into a temporary file beside it, removed on exit."""

    def __init__(self, path: Path, fmt: TableFormat, limits: ReadLimits | None, name: str) -> None:
        self.path, self.fmt, self.limits, self.name = path, fmt, limits, name
        self.temp: Path | None = None

    def __enter__(self) -> Path:
        if not self.fmt.gzipped:
            return self.path
        handle = tempfile.NamedTemporaryFile(dir=self.path.parent, prefix=".unpacked-", suffix=".parquet",
                                             delete=False)
        self.temp = Path(handle.name)
        try:
            binary = dataclasses.replace(self.limits, max_line_bytes=None) if self.limits else None  # no lines
            with handle, _open(self.path, self.fmt, binary, self.name) as stream:
                _check_start(stream.peek(4)[:4] if hasattr(stream, "peek") else b"", self.name)
                while block := stream.read(1 << 20):
                    handle.write(block)
        except (OSError, EOFError, zlib.error) as exc:
            self.__exit__()
            raise ReadError(f"“{self.name}” could not be decompressed ({exc}). Upload an intact .gz file.") from None
        except BaseException:
            self.__exit__()
            raise
        return self.temp

    def __exit__(self, *exc: object) -> None:
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)
            self.temp = None


def _check_parquet(parquet, limits: ReadLimits | None, name: str) -> None:  # type: ignore[no-untyped-def]
    """Columns, rows and decoded sizes from the footer, before any row is decoded."""
    if limits is None:
        return
    meta = parquet.metadata
    limits.check_columns(meta.num_columns, name)
    limits.check_rows(meta.num_rows, name)
    sizes = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    if limits.max_bytes is not None and sum(sizes) > limits.max_bytes:
        raise LimitError(f"“{name}” holds more than {limits.describe('bytes')} of data once decoded. Split it "
                         "into smaller files and import them one after the other.", "bytes")
    if limits.max_row_group_bytes is not None and max(sizes, default=0) > limits.max_row_group_bytes:
        raise LimitError(f"A row group of “{name}” holds {max(sizes) / 2**20:,.0f} MB once decoded; the limit is "
                         f"{limits.max_row_group_bytes / 2**20:,.0f} MB. Write it with smaller row groups "
                         "(pyarrow: row_group_size=100_000).", "bytes")


def iter_chunks(path: str | Path, *, name: str | None = None, chunk_rows: int = 50_000,
                limits: ReadLimits | None = None) -> Iterator[pd.DataFrame]:
    """Chunks of at most ``chunk_rows`` rows, text columns plus ``_row``; see the module docstring."""
    path = Path(path)
    name = name or path.name
    if path.stat().st_size == 0:
        raise ReadError(f"“{name}” is empty (0 bytes). Upload a file with a header row and data rows.")
    fmt = detect_format(name)
    reader = {"csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks}[fmt.kind]
    seen_any = False
    done = 0
    for chunk in reader(path, fmt, name, chunk_rows, limits):
        done += len(chunk)
        if limits is not None:
            limits.check_rows(done, name)
        if len(chunk):
            seen_any = True
            yield chunk
        elif not seen_any and fmt.kind == "csv":
            break
    if not seen_any:
        raise ReadError(f"“{name}” has a header row but no data rows. Add at least one row below the header.")


def read_table(path: str | Path, *, name: str | None = None) -> pd.DataFrame:
    """The whole file as one frame (text columns plus ``_row``)."""
    return pd.concat(list(iter_chunks(path, name=name)), ignore_index=True)


def preview(path: str | Path, *, name: str | None = None, rows: int = 5,
            limits: ReadLimits | None = None) -> tuple[list[str], list[list[str]]]:
    """The file's column names and its first ``rows`` rows, for the column-mapping form (reads no further)."""
    chunks = iter_chunks(path, name=name, chunk_rows=max(rows, 200), limits=limits)
    try:
        first = next(chunks)
    finally:
        chunks.close()  # type: ignore[attr-defined]
    columns = [c for c in first.columns if c != ROW]
    return columns, first[columns].head(rows).to_numpy().tolist()


def count_rows(path: str | Path, *, name: str | None = None, limits: ReadLimits | None = None,
               stop_after: int | None = None) -> int | None:
    """A quick row count for progress (data lines; exact unless CSV cells hold line breaks).

    ``stop_after``: stop reading once more rows than that are seen (the count returned is then
    ``stop_after + 1``). A gzipped Parquet file is counted only when ``limits`` are given (it must be
    decompressed); ``None`` when unknown. :class:`LimitError` when a limit is crossed.
    """
    path = Path(path)
    name = name or path.name
    fmt = detect_format(name)
    try:
        if fmt.kind == "parquet":
            import pyarrow.parquet as pq

            if fmt.gzipped and limits is None:
                return None
            with _parquet_path(path, fmt, limits, name) as plain:
                parquet = pq.ParquetFile(plain)
                _check_parquet(parquet, limits, name)
                return int(parquet.metadata.num_rows)
        header = 1 if fmt.kind == "csv" else 0
        lines = 0
        last = b"\n"
        with _open(path, fmt, limits, name) as stream:
            while block := stream.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
                if stop_after is not None and lines - header > stop_after:
                    return stop_after + 1
                if limits is not None and limits.max_rows is not None and lines - header > limits.max_rows:
                    limits.check_rows(lines - header, name)
        lines += last != b"\n"
        return max(lines - header, 0)
    except LimitError:
        raise
    except Exception:  # a damaged file is reported by iter_chunks with a better message
        return None
