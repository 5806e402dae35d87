"""Read a file too big for memory as a stream of float64 chunks, with line-numbered errors."""

import csv
import io
import sys
from pathlib import Path

import numpy as np

__all__ = ["DataError", "ChunkReader"]


class DataError(ValueError):
    """The input file cannot be used as it is; the message says where and why."""


class ChunkReader:
    """Iterate over a ``.npy``, ``.csv`` or ``.tsv`` file (or CSV on stdin) in chunks.

    A ``.npy`` file is memory-mapped; a CSV file is parsed line by line, so
    neither is ever loaded whole. A first CSV row with a non-numeric field is
    a header naming the features.

    Parameters
    ----------
    path : str
        File path, or ``'-'`` for CSV on standard input.
    chunk_size : int
        Rows per chunk.
    columns : list of str or None
        Columns to keep: names from the header, or 0-based indices.
    skip_invalid : bool
        Skip (and count in ``n_skipped``) rows with NaN or infinite values
        instead of refusing the file.

    Attributes
    ----------
    feature_names : list of str or None
        Names from the header, after column selection.
    n_skipped : int
        Rows skipped so far.
    """

    def __init__(self, path, chunk_size=10_000, columns=None, skip_invalid=False):
        self.path = path
        self.chunk_size = chunk_size
        self.columns = columns
        self.skip_invalid = skip_invalid
        self.feature_names = None
        self.n_skipped = 0
        if path != "-" and not Path(path).is_file():
            raise DataError(f"{path}: no such file")

    def __iter__(self):
        if self.path != "-" and Path(self.path).suffix == ".npy":
            yield from self._npy_chunks()
        else:
            yield from self._text_chunks()

    # -- .npy -------------------------------------------------------------------

    def _npy_chunks(self):
        try:
            data = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"{self.path}: not a readable .npy array ({exc})") from None
        if data.ndim != 2 or data.dtype.kind not in "fiub":
            raise DataError(
                f"{self.path}: expected a 2-D numeric array, got shape {data.shape} of "
                f"dtype {data.dtype}"
            )
        if data.shape[0] == 0:
            raise DataError(f"{self.path}: the array has no rows")
        index = self._select(list(map(str, range(data.shape[1]))), header=False)
        for start in range(0, data.shape[0], self.chunk_size):
            chunk = np.asarray(data[start : start + self.chunk_size], dtype=np.float64)
            if index is not None:
                chunk = chunk[:, index]
            yield self._finite(chunk, np.arange(start, start + len(chunk)) + 1, "row")

    # -- CSV / TSV ----------------------------------------------------------------

    def _text_chunks(self):
        delimiter = "\t" if str(self.path).endswith(".tsv") else ","
        stream = (
            io.TextIOWrapper(sys.stdin.buffer, newline="")
            if self.path == "-"
            else open(self.path, newline="")
        )
        try:
            yield from self._parse(csv.reader(stream, delimiter=delimiter))
        finally:
            if self.path != "-":
                stream.close()

    def _parse(self, reader):
        name = "<stdin>" if self.path == "-" else self.path
        width, index, rows, lines = None, None, [], []
        for row in reader:
            if not row or all(not field.strip() for field in row):
                continue
            if width is None:
                width = len(row)
                if not all(_is_number(field) for field in row):
                    index = self._select([field.strip() for field in row], header=True)
                    continue
                index = self._select([str(i) for i in range(width)], header=False)
            if len(row) != width:
                raise DataError(
                    f"{name}, line {reader.line_num}: expected {width} fields, found {len(row)}"
                )
            rows.append(row if index is None else [row[i] for i in index])
            lines.append(reader.line_num)
            if len(rows) == self.chunk_size:
                yield self._convert(rows, lines, name)
                rows, lines = [], []
        if rows:
            yield self._convert(rows, lines, name)
        elif width is None:
            raise DataError(f"{name}: the file is empty")

    def _convert(self, rows, lines, name):
        try:
            chunk = np.array(rows, dtype=np.float64)
        except ValueError:
            for row, line in zip(rows, lines, strict=True):
                for field in row:
                    if not _is_number(field):
                        raise DataError(
                            f"{name}, line {line}: non-numeric value {field!r}"
                        ) from None
            raise
        return self._finite(chunk, np.asarray(lines), "line")

    # -- shared -------------------------------------------------------------------

    def _select(self, names, header):
        """Column indices to keep (None: all), and the feature names."""
        if self.columns is None:
            self.feature_names = names if header else None
            return None
        index = []
        for column in self.columns:
            if column in names and (header or column.isdigit()):
                index.append(names.index(column))
            elif column.isdigit() and int(column) < len(names):
                index.append(int(column))
            else:
                raise DataError(f"{self.path}: no column {column!r} (columns: {', '.join(names)})")
        self.feature_names = [names[i] for i in index] if header else None
        return index

    def _finite(self, chunk, positions, unit):
        bad = ~np.isfinite(chunk).all(axis=1)
        if not bad.any():
            return chunk
        if not self.skip_invalid:
            name = "<stdin>" if self.path == "-" else self.path
            raise DataError(
                f"{name}, {unit} {positions[bad][0]}: NaN or infinite value "
                "(use --skip-invalid to skip such rows)"
            )
        self.n_skipped += int(bad.sum())
        return chunk[~bad]


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True
