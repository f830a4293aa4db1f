"""Limits a reader enforces while it reads: decompressed bytes, line length, columns, rows.

A hostile upload is small when compressed and huge when read (one endless line, hundreds of
millions of short rows, a million columns, a Parquet bomb). The readers in
:mod:`mlcore.data.readers` pass every byte through :class:`LimitedStream`, which counts the
decompressed bytes and the longest line as the bytes go by (numpy over each block, so memory
stays one block), and check columns and rows before they build a frame. Any limit crossed
raises :class:`LimitError` at once, naming the limit and the fix; nothing waits for the end of
the file.

>>> ReadLimits(max_rows=10).describe("rows")
'10 rows'
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

BLOCK = 1 << 20  # bytes read from the file at a time
CELLS_PER_CHUNK = 500_000  # text cells in one chunk: rows per chunk shrink as columns grow


class ReadError(ValueError):
    """The file as a whole cannot be read; the message tells the operator what to do."""


class LimitError(ReadError):
    """The file crosses one of :class:`ReadLimits`; ``limit`` names which (bytes, line, columns, rows)."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds for one file (``None``: unbounded). ``max_bytes`` counts decompressed bytes;
    ``max_row_group_bytes`` bounds one Parquet row group uncompressed (a reader decodes one at a time)."""

    max_bytes: int | None = None
    max_line_bytes: int | None = None
    max_columns: int | None = None
    max_rows: int | None = None
    max_row_group_bytes: int | None = 256 * 1024 * 1024

    def describe(self, limit: str) -> str:
        """The limit in words: ``'10 rows'``, ``'1.0 MB per line'``."""
        if limit == "bytes":
            return f"{(self.max_bytes or 0) / 1024 / 1024:,.1f} MB once decompressed"
        if limit == "line":
            return f"{(self.max_line_bytes or 0) / 1024 / 1024:,.1f} MB per line"
        if limit == "columns":
            return f"{self.max_columns:,} columns"
        return f"{self.max_rows:,} rows"

    def check_columns(self, count: int, name: str) -> None:
        if self.max_columns is not None and count > self.max_columns:
            raise LimitError(f"“{name}” has {count:,} columns; the limit is {self.describe('columns')}. Keep only "
                             "the columns you import (id, title, … and the attributes you use) and upload it again.",
                             "columns")

    def check_rows(self, count: int, name: str) -> None:
        if self.max_rows is not None and count > self.max_rows:
            raise LimitError(f"“{name}” has more than {self.max_rows:,} rows; the limit is {self.describe('rows')}. "
                             "Split it into smaller files and import them one after the other.", "rows")

    def chunk_rows(self, chunk_rows: int, columns: int) -> int:
        """Rows per chunk for a file of ``columns`` columns: at most :data:`CELLS_PER_CHUNK` cells."""
        return max(1, min(chunk_rows, CELLS_PER_CHUNK // max(columns, 1)))


class LimitedStream(io.RawIOBase):
    """A binary stream that raises :class:`LimitError` once too many bytes, or a too long line, went by.

    ``lines`` counts the newlines seen so far; ``bytes_read`` the bytes.
    """

    def __init__(self, raw: BinaryIO, limits: ReadLimits, name: str) -> None:
        super().__init__()
        self._raw = raw
        self._limits = limits
        self._name = name
        self.bytes_read = 0
        self.lines = 0
        self._run = 0  # bytes since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        view = memoryview(buffer).cast("B")
        data = self._raw.read(min(len(view), BLOCK))
        n = len(data)
        if n:
            self._account(data)
            view[:n] = data
        return n

    def _account(self, data: bytes) -> None:
        limits = self._limits
        self.bytes_read += len(data)
        if limits.max_bytes is not None and self.bytes_read > limits.max_bytes:
            raise LimitError(f"“{self._name}” holds more than {limits.describe('bytes')} of data. Split it into "
                             "smaller files and import them one after the other.", "bytes")
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        before = self.lines
        self.lines += len(newlines)
        if len(newlines) == 0:
            longest, at = self._run + len(data), before + 1
            self._run = longest
        else:
            # (length, line number) of the first piece (carried over), the middle ones and the tail
            longest, at = self._run + int(newlines[0]), before + 1
            if len(newlines) > 1:
                gaps = np.diff(newlines) - 1
                widest = int(gaps.argmax())
                if int(gaps[widest]) > longest:
                    longest, at = int(gaps[widest]), before + widest + 2
            self._run = len(data) - 1 - int(newlines[-1])
            if self._run > longest:
                longest, at = self._run, self.lines + 1
        if limits.max_line_bytes is not None and longest > limits.max_line_bytes:
            raise LimitError(f"Line {at:,} of “{self._name}” is longer than {limits.describe('line')}. "
                             "Is it really one row per line? Check the line endings and quoting, or split "
                             "long text cells.", "line")


def limited(raw: BinaryIO, limits: ReadLimits | None, name: str) -> BinaryIO:
    """``raw`` behind a :class:`LimitedStream` and a buffer (``peek`` works); ``raw`` itself without limits."""
    if limits is None:
        return raw
    return io.BufferedReader(LimitedStream(raw, limits, name), buffer_size=BLOCK)  # type: ignore[return-value]
