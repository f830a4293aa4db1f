"""Readers for tabular upload files: CSV, JSON Lines and Parquet, each optionally gzipped.

The format comes from the file name (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``,
plus ``.gz``). Every reader yields chunks of text columns (``str``, empty string for
a missing value) with one extra int column ``_row``: the row number an operator
finds in the file (CSV counts the header as row 1, as a spreadsheet does; JSON Lines
counts lines; Parquet counts data rows from 1). Problems that make the whole file
unreadable raise :class:`ReadError` with a message that says how to fix them.

>>> detect_format("orders.CSV.gz")
TableFormat(kind='csv', gzipped=True)
"""
from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd

ROW = "_row"
Kind = Literal["csv", "jsonl", "parquet"]
_SUFFIXES: dict[str, Kind] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                              ".parquet": "parquet", ".pq": "parquet"}
SUPPORTED = "CSV (.csv), JSON Lines (.jsonl) or Parquet (.parquet), optionally gzipped (.gz)"


class ReadError(ValueError):
    """The file as a whole cannot be read; the message tells the operator what to do."""


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


def _open(path: Path, fmt: TableFormat) -> BinaryIO:
    raw = path.open("rb")
    return gzip.GzipFile(fileobj=raw, mode="rb") if fmt.gzipped else raw  # type: ignore[return-value]


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


def _csv_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with _open(path, fmt) as stream:
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


def _jsonl_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with _open(path, fmt) as raw:
        try:
            _check_start(raw.peek(4)[:4] if hasattr(raw, "peek") else b"", name)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict")
            records: list[dict[str, object]] = []
            rows: list[int] = []
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
                records.append(record)
                rows.append(lineno)
                if len(records) >= chunk_rows:
                    yield _records_frame(records, rows)
                    records, rows = [], []
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


def _parquet_chunks(path: Path, fmt: TableFormat, name: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        with _open(path, fmt) as stream:
            if fmt.gzipped:
                data = stream.read()
                _check_start(data[:4], name)
            parquet = pq.ParquetFile(io.BytesIO(data) if fmt.gzipped else stream)
            start = 1
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                frame = _as_text(batch.to_pandas())
                frame.index = pd.RangeIndex(start - 1, start - 1 + len(frame))
                frame[ROW] = frame.index.to_numpy() + 1
                start += len(frame)
                yield frame
    except ReadError:
        raise
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ReadError(f"“{name}” is not a readable Parquet file ({exc}). Export it again as Parquet.") from None


def iter_chunks(path: str | Path, *, name: str | None = None, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Chunks of at most ``chunk_rows`` rows, text columns plus ``_row``; see the module docstring."""
    path = Path(path)
    name = name or path.name
    if path.stat().st_size == 0:
        raise ReadError(f"“{name}” is empty (0 bytes). Upload a file with a header row and data rows.")
    fmt = detect_format(name)
    reader = {"csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks}[fmt.kind]
    seen_any = False
    for chunk in reader(path, fmt, name, chunk_rows):
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


def preview(path: str | Path, *, name: str | None = None, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The file's column names and its first ``rows`` rows, for the column-mapping form."""
    first = next(iter_chunks(path, name=name, chunk_rows=max(rows, 200)))
    columns = [c for c in first.columns if c != ROW]
    return columns, first[columns].head(rows).to_numpy().tolist()


def count_rows(path: str | Path, *, name: str | None = None) -> int | None:
    """A quick row count for progress (data lines; exact unless CSV cells hold line breaks)."""
    path = Path(path)
    fmt = detect_format(name or path.name)
    try:
        if fmt.kind == "parquet":
            import pyarrow.parquet as pq

            if fmt.gzipped:
                return None
            return int(pq.ParquetFile(path).metadata.num_rows)
        lines = 0
        last = b"\n"
        with _open(path, fmt) as stream:
            while block := stream.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"
        return max(lines - (1 if fmt.kind == "csv" else 0), 0)
    except Exception:  # a damaged file is reported by iter_chunks with a better message
        return None
