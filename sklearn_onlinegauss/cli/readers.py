"""Read a file too big for memory as a stream of float64 chunks, with line-numbered errors."""

import bz2
import csv
import gzip
import itertools
import lzma
import sys
from pathlib import Path

import numpy as np

__all__ = ["ChunkReader", "DataError", "UsageError", "listed"]

#: Compressed files, by extension, opened as streams.
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}
#: Text read to guess the delimiter.
_SAMPLE = 64 * 1024
#: Bytes read at a time from a text file.
_BLOCK = 64 * 1024
#: Names shown of a long list of columns in a message, before "... and N more".
_SHOWN = 10


class DataError(ValueError):
    """The input file cannot be used as it is; the message says where and why."""

    exit_code = 1


class UsageError(DataError):
    """The command line alone is wrong, whatever the files hold (exit code 2, as argparse)."""

    exit_code = 2


def listed(names, limit=_SHOWN):
    """``names`` comma-separated, the first ``limit`` of a longer list and a count of the rest."""
    names = [str(name) for name in names]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", ... and {len(names) - limit} more"


class ChunkReader:
    """Iterate over a ``.npy``, ``.csv`` or ``.tsv`` file (or CSV on stdin) in chunks.

    A ``.npy`` file is memory-mapped; a text file (also ``.gz``, ``.bz2`` or
    ``.xz`` compressed) is parsed line by line, so neither is ever loaded
    whole.

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
    delimiter : str or None
        Field delimiter of a text file; None: a tab for ``.tsv``, else
        guessed from the first 64 kB of a file, or the first line of
        standard input (``guessed_delimiter`` says what was guessed when it
        is not a comma).
    header : {'auto', 'yes', 'no'}
        Whether the first row names the columns. ``'auto'``: if no field of
        it is a number; a first row that mixes numbers and names is refused.
    names : list of str or None
        Columns to take by name, in this order (the features of a model):
        the header must have them all.
    target : str or None
        A column of labels, read apart from the features: a name from the
        header, or a 0-based index (negative: from the end, ``'-1'`` the
        last). The features are then ``columns``, or every other column.
        With a target, iterating gives ``(X, y)`` pairs: ``y`` the labels as
        text (stripped) from a text file, as float64 from a ``.npy`` file; a
        row without a label (an empty field, NaN) is invalid like a row with
        a NaN feature.

    Attributes
    ----------
    feature_names : list of str or None
        Names from the header, after column selection.
    labels : list of str
        The columns read, for display: their names, or their 0-based indices.
    target_label : str or None
        The target column, for display: its name, or its 0-based index.
    n_skipped : int
        Rows skipped so far.
    guessed_delimiter : str or None
        The delimiter guessed, when it was guessed and is not a comma.
    """

    def __init__(
        self,
        path,
        chunk_size=10_000,
        columns=None,
        skip_invalid=False,
        delimiter=None,
        header="auto",
        names=None,
        target=None,
    ):
        self.path = path
        self.chunk_size = chunk_size
        self.columns = columns
        self.skip_invalid = skip_invalid
        self.delimiter = delimiter
        self.header = header
        self.names = names
        self.target = target
        self.feature_names = None
        self.labels = []
        self.target_label = None
        self._target_index = None
        self.n_skipped = 0
        self.guessed_delimiter = None
        if path != "-" and not Path(path).is_file():
            raise DataError(f"{path}: no such file")
        self.name = "<stdin>" if path == "-" else str(path)
        self.suffixes = [] if path == "-" else [s.lower() for s in Path(path).suffixes]

    def __iter__(self):
        for X, y in self._chunks():
            yield X if self.target is None else (X, y)

    def target_values(self):
        """The distinct labels of the target column, sorted: one pass over the file.

        Only the target column is converted, so this costs about a read of
        the file; standard input cannot be read twice, and is refused.
        """
        if self.path == "-":
            raise UsageError("standard input is read only once: give the classes with --classes")
        seen = set()
        for _, y in self._chunks(labels_only=True):
            seen.update(y[np.isfinite(y)] if y.dtype.kind == "f" else y[y != ""])
        return sorted(seen)

    def _chunks(self, labels_only=False):
        """``(X, y)`` chunks (``y`` None without a target; ``X`` None if ``labels_only``)."""
        if self.suffixes[-1:] == [".npy"]:
            yield from self._npy_chunks(labels_only)
        else:
            yield from self._text_chunks(labels_only)

    # -- .npy -------------------------------------------------------------------

    def _npy_chunks(self, labels_only):
        try:
            data = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"{self.path}: not a readable .npy array ({exc})") from None
        if not isinstance(data, np.ndarray):  # np.load opened an .npz archive
            data.close()
            raise DataError(
                f"{self.path}: an .npz archive of arrays, not one .npy array; save the "
                "array with np.save, or give the archive's array as its own file"
            )
        if data.ndim != 2 or data.dtype.kind not in "fiub":
            raise DataError(
                f"{self.path}: expected a 2-D numeric array, got shape {data.shape} of "
                f"dtype {data.dtype}"
            )
        if data.shape[0] == 0:
            raise DataError(f"{self.path}: the array has no rows")
        if data.shape[1] == 0:
            raise DataError(f"{self.path}: the array has no columns")
        index = self._select(None, data.shape[1])
        t = self._target_index
        for start in range(0, data.shape[0], self.chunk_size):
            rows = data[start : start + self.chunk_size]
            y = None if t is None else np.asarray(rows[:, t], dtype=np.float64)
            if labels_only:
                yield None, y
                continue
            chunk = np.asarray(rows if index is None else rows[:, index], dtype=np.float64)
            yield self._finite(chunk, np.arange(start, start + len(chunk)) + 1, "row", y)

    # -- CSV / TSV ----------------------------------------------------------------

    def _text_chunks(self, labels_only):
        if self.path == "-":
            raw, close = sys.stdin.buffer, False
        else:
            opener = _OPENERS.get(self.suffixes[-1] if self.suffixes else "", open)
            raw, close = opener(self.path, "rb"), True
        try:
            lines = self._lines_with_delimiter(self._decoded(raw))
            yield from self._parse(csv.reader(lines, delimiter=self.delimiter), labels_only)
        except (OSError, EOFError, lzma.LZMAError) as exc:  # a damaged compressed file
            raise DataError(f"{self.name}: cannot be read ({exc})") from None
        finally:
            if close:
                raw.close()

    def _decoded(self, raw):
        """The lines of a binary stream as text, decoded one by one so errors have a line."""
        for number, line in enumerate(_lines(raw), start=1):
            try:
                # utf-8-sig: a byte-order mark (as Excel writes) is not part of the data.
                yield line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                bad = line[exc.start : exc.start + 1]
                raise DataError(
                    f"{self.name}, line {number}: not UTF-8 text (byte {bad!r}); convert "
                    "it first, e.g. iconv -f latin1 -t utf-8 for a Latin-1 file"
                ) from None

    def _lines_with_delimiter(self, lines):
        """The lines, once the delimiter is known (guessed from a sample if need be)."""
        if self.delimiter is not None:
            return lines
        inner = [s for s in self.suffixes if s not in _OPENERS]
        if inner[-1:] == [".tsv"]:
            self.delimiter = "\t"
            return lines
        # Standard input may be a live stream: guess from its first line alone
        # rather than wait for 64 kB. A file gives more to go on.
        sample, size = [], 0
        for line in lines:
            sample.append(line)
            size += len(line)
            if self.path == "-" or size >= _SAMPLE:
                break
        try:
            self.delimiter = csv.Sniffer().sniff("".join(sample), delimiters=",;\t|").delimiter
        except csv.Error:
            self.delimiter = ","
        if self.delimiter != ",":
            self.guessed_delimiter = self.delimiter
        return itertools.chain(sample, lines)

    def _parse(self, reader, labels_only):
        try:
            yield from self._rows(reader, labels_only)
        except csv.Error as exc:  # a NUL byte, a field over csv's limit: not a CSV file
            raise DataError(
                f"{self.name}, line {reader.line_num}: not readable as CSV ({exc})"
            ) from None

    def _rows(self, reader, labels_only):
        width, index, rows, lines, targets = None, None, [], [], []
        for row in reader:
            if not row or all(not field.strip() for field in row):
                continue
            if width is None:
                width = len(row)
                if self._is_header(row, reader.line_num):
                    index = self._select([field.strip() for field in row], width)
                    continue
                index = self._select(None, width)
            if len(row) != width:
                raise DataError(
                    f"{self.name}, line {reader.line_num}: expected {width} fields, "
                    f"found {len(row)}"
                )
            if self._target_index is not None:
                targets.append(row[self._target_index].strip())
            if not labels_only:
                rows.append(row if index is None else [row[i] for i in index])
            lines.append(reader.line_num)
            if len(lines) == self.chunk_size:
                yield self._convert(rows, lines, targets, labels_only)
                rows, lines, targets = [], [], []
        if lines:
            yield self._convert(rows, lines, targets, labels_only)
        elif width is None:
            raise DataError(f"{self.name}: the file is empty")

    def _is_header(self, row, line):
        if self.header != "auto":
            return self.header == "yes"
        numbers = [field for field in row if _is_number(field)]
        if len(numbers) == len(row):
            return False
        if numbers:
            text = next(field for field in row if not _is_number(field))
            raise DataError(
                f"{self.name}, line {line}: the first row mixes numbers and names (e.g. "
                f"{numbers[0].strip()!r} and {text.strip()!r}): name every column if it "
                "is a header, fix the value if it is data, or say which with --header "
                "yes or --header no"
            )
        return True

    def _convert(self, rows, lines, targets, labels_only):
        y = None if self._target_index is None else np.array(targets, dtype=str)
        if labels_only:
            return None, y
        try:
            chunk = np.array(rows, dtype=np.float64)
        except ValueError:
            for row, line in zip(rows, lines, strict=True):
                for field in row:
                    if not _is_number(field):
                        raise DataError(
                            f"{self.name}, line {line}: non-numeric value {field!r}"
                        ) from None
            raise
        return self._finite(chunk, np.asarray(lines), "line", y)

    # -- shared -------------------------------------------------------------------

    def _select(self, header, width):
        """Column indices to keep (None: all); sets ``feature_names`` and ``labels``.

        ``header`` is the list of names from the header, or None.
        """
        positions = [str(i) for i in range(width)]
        target = self._find_target(header, width)
        if self.names is not None:
            index = self._by_name(header)
        elif self.columns is not None:
            index = []
            for column in self.columns:
                if header is not None and column in header:
                    index.append(header.index(column))
                elif column.isdigit() and int(column) < width:
                    index.append(int(column))
                else:
                    known = header if header is not None else [f"0 to {width - 1}"]
                    raise DataError(
                        f"{self.name}: no column {column!r} (columns: {listed(known)})"
                    )
        elif target is not None:
            index = [i for i in range(width) if i != target]
            if not index:
                raise DataError(f"{self.name}: no column is left for the features")
        else:
            index = None
        if target is not None and target in index:
            raise UsageError(
                f"{self.name}: the target column {self.target!r} is also among the features "
                "(--columns)"
            )
        kept = range(width) if index is None else index
        if header is not None:
            names = [header[i] for i in kept]
            unnamed = [i for i in kept if not header[i]]
            if unnamed:
                raise DataError(
                    f"{self.name}: column {unnamed[0]} has no name in the header (a "
                    "pandas index, written by to_csv?); leave it out with --columns, or "
                    "write the file with index=False"
                )
            if len(set(names)) < len(names):
                twice = next(n for n in names if names.count(n) > 1)
                raise DataError(f"{self.name}: the header names {twice!r} twice")
            self.feature_names = names
        self.labels = self.feature_names or [positions[i] for i in kept]
        return None if index is None or index == list(range(width)) else index

    def _by_name(self, header):
        """The indices of the model's features ``names`` in ``header``, or a DataError."""
        if header is None:
            raise DataError(
                f"{self.name}: the model's features are named "
                f"({listed(self.names)}), and this file has no header to find them "
                "by; add one, or take columns by position with --columns"
            )
        missing = [n for n in self.names if n not in header]
        if missing:
            raise DataError(
                f"{self.name}: no column for the model's feature(s) "
                f"{listed(map(repr, missing))} (columns: {listed(header)})"
            )
        return [header.index(n) for n in self.names]

    def _find_target(self, header, width):
        """The target column's index (None without one); sets ``target_label``."""
        if self.target is None:
            return None
        if header is not None and self.target in header:
            index = header.index(self.target)
        else:
            try:
                index = int(self.target)
            except ValueError:
                index = width  # not a name of the header, nor a position
            index = index + width if index < 0 else index
            if not 0 <= index < width:
                known = listed(header) if header is not None else f"0 to {width - 1}"
                raise DataError(
                    f"{self.name}: no target column {self.target!r} (columns: {known}; "
                    "negative positions count from the end)"
                )
        self._target_index = index
        self.target_label = header[index] if header is not None else str(index)
        return index

    def _finite(self, chunk, positions, unit, y=None):
        """``(chunk, y)`` without their invalid rows (or an error on the first)."""
        bad = ~np.isfinite(chunk).all(axis=1)
        unlabelled = np.zeros(len(chunk), bool)
        if y is not None:
            unlabelled = ~np.isfinite(y) if y.dtype.kind == "f" else y == ""
        if not (bad.any() or unlabelled.any()):
            return chunk, y
        if not self.skip_invalid:
            first = np.flatnonzero(bad | unlabelled)[0]
            what = (
                "NaN or infinite value"
                if bad[first]
                else f"no label in the target column {self.target_label!r}"
            )
            raise DataError(
                f"{self.name}, {unit} {positions[first]}: {what} "
                "(use --skip-invalid to skip such rows)"
            )
        keep = ~(bad | unlabelled)
        self.n_skipped += int((~keep).sum())
        return chunk[keep], None if y is None else y[keep]


def _lines(raw):
    """The lines of a binary stream, each ending in ``\\n``, whatever ended them in the file.

    ``\\n`` (Unix), ``\\r\\n`` (Windows) or a lone ``\\r`` (old Mac OS); read as it
    comes (``read1``), so that a line of a live stream is not held back for more.
    """
    pending = b""
    while block := raw.read1(_BLOCK):
        lines = (pending + block).splitlines(keepends=True)
        # A last line without \n may go on in the next block (after \r: maybe \n).
        pending = b"" if lines[-1].endswith(b"\n") else lines.pop()
        for line in lines:
            yield line.rstrip(b"\r\n") + b"\n"
    if pending:
        yield pending.rstrip(b"\r\n") + b"\n"


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True
