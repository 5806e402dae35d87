"""Read a file too big for memory as a stream of float64 chunks, with line-numbered errors.

:class:`ChunkReader` picks a reader by the path: CSV or TSV text (also
compressed, or on standard input; :mod:`.text`), Parquet or Feather/Arrow IPC
(a file, or a directory of them; :mod:`.columnar`), or a ``.npy`` array
(memory-mapped). Each yields :class:`Piece` objects: rows with their line or
row numbers, and why each bad one is bad; the reader here refuses or skips
the bad rows, and cuts the rest into chunks of ``chunk_size`` rows.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["ChunkReader", "DataError", "Piece", "UsageError", "listed"]

#: Names shown of a long list of columns in a message, before "... and N more".
_SHOWN = 10
#: Invalid rows named in the summary of a fit (each with its line and why).
SKIPPED_SHOWN = 5
_PARQUET = (".parquet", ".pq", ".parq")
_ARROW = (".feather", ".arrow", ".ipc", ".arrows")
#: The first bytes of the binary formats read, whatever a file's name.
_MAGIC = {b"PAR1": "parquet", b"ARROW1": "arrow", b"\x93NUMPY": "npy"}


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


class Piece(NamedTuple):
    """Rows as a reader gives them, bad ones included.

    ``X`` (float64, NaN where a value could not be read; None when only the
    labels are read) and ``y`` (None without a target) have a row per entry
    of ``pos``, the rows' line (``unit='line'``) or row numbers in the file
    ``name``. ``bad`` lists ``(number, why)`` of the bad rows, sorted; rows of
    the file that are not rows of ``X`` at all (a line of the wrong number of
    fields) are in ``bad`` only.
    """

    X: object
    y: object
    pos: np.ndarray
    bad: list
    name: str
    unit: str = "line"


class ChunkReader:
    """Iterate over a CSV, TSV, Parquet, Feather or ``.npy`` file (or CSV on stdin) in chunks.

    No file is ever loaded whole: a ``.npy`` file is memory-mapped, the
    others are streamed through pyarrow's readers (a text file, also
    ``.gz``, ``.bz2``, ``.xz``, ``.zst`` or ``.lz4`` compressed, in blocks of
    lines; a Parquet file by row groups, of the columns used only).

    Parameters
    ----------
    path : str
        File path, a directory of Parquet or Feather files, or ``'-'`` for
        CSV on standard input.
    chunk_size : int
        Rows per chunk.
    columns : list of str or None
        Columns to keep: names from the header, or 0-based indices.
    skip_invalid : bool
        Skip (and count in ``n_skipped``) invalid rows instead of refusing
        the file at the first: an empty field or a missing value, a line of
        the wrong number of fields, text in a column of numbers, a NaN or
        infinite value, a row without a label.
    delimiter : str or None
        Field delimiter of a text file; None: a tab for ``.tsv``, else
        guessed from the first 64 kB of a file, or the first line of
        standard input (``guessed_delimiter`` says what was guessed when it
        is not a comma).
    header : {'auto', 'yes', 'no'}
        Whether the first row of a text file names the columns. ``'auto'``:
        if no field of it is a number; a first row that mixes numbers and
        names is refused. Parquet and Feather columns always have names.
    names : list of str or None
        Columns to take by name, in this order (the features of a model):
        the header must have them all.
    target : str or None
        A column of labels, read apart from the features: a name from the
        header, or a 0-based index (negative: from the end, ``'-1'`` the
        last). The features are then ``columns``, or every other column.
        With a target, iterating gives ``(X, y)`` pairs: ``y`` the labels as
        text (stripped) from a text file, as float64 from a column of
        numbers; a row without a label (an empty field, NaN) is invalid like
        a row with a NaN feature.

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
    skipped : list of str
        The first ``SKIPPED_SHOWN`` rows skipped: where each is and why.
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
        self._feature_index = None
        self.n_skipped = 0
        self.skipped = []
        self.guessed_delimiter = None
        if path != "-" and not (Path(path).is_file() or Path(path).is_dir()):
            raise DataError(f"{path}: no such file")
        self.name = "<stdin>" if path == "-" else str(path)
        self.suffixes = [] if path == "-" else [s.lower() for s in Path(path).suffixes]
        self.format = _format(path, self.suffixes)

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
        if self.format == "npy":
            from .npy import pieces
        elif self.format == "text":
            from .text import pieces
        else:
            from .columnar import pieces
        chunks = _Rechunk(self.chunk_size)
        for piece in pieces(self, labels_only):
            X, y, error = self._screen(piece, labels_only)
            yield from chunks.push(X, y)
            if error is not None:  # the chunks before the bad row's are fitted
                raise error
        yield from chunks.rest()

    def _screen(self, piece, labels_only):
        """``(X, y, error)``: the good rows of ``piece``; without ``skip_invalid``, only
        those before the first bad row, and a DataError that names it."""
        X, y, pos, bad, name, unit = piece
        bad = list(bad)
        if not labels_only and len(pos):
            bad = sorted(bad + self._not_finite(X, y, pos, {p for p, _ in bad}))
        if not bad:
            return X, y, None
        if not self.skip_invalid:
            first, why = bad[0]
            keep = pos < first
            error = DataError(
                f"{name}, {unit} {first}: {why} (use --skip-invalid to skip such rows)"
            )
            return _rows(X, keep), _rows(y, keep), error
        if not labels_only:  # the fit's own pass counts them
            self.n_skipped += len(bad)
            where = f"{unit} " if name == self.name else f"{name}, {unit} "
            room = SKIPPED_SHOWN - len(self.skipped)
            self.skipped += [f"{where}{p} ({why})" for p, why in bad[:room]]
        keep = ~np.isin(pos, [p for p, _ in bad])
        return _rows(X, keep), _rows(y, keep), None

    def _not_finite(self, X, y, pos, known):
        """``(number, why)`` of the rows with a NaN or infinite value, or without a label."""
        bad = ~np.isfinite(X).all(axis=1)
        if y is not None:
            unlabelled = ~np.isfinite(y) if y.dtype.kind == "f" else y == ""
        else:
            unlabelled = np.zeros(len(pos), bool)
        found = []
        for row in np.flatnonzero(bad | unlabelled):
            if int(pos[row]) not in known:
                why = (
                    "NaN or infinite value"
                    if bad[row]
                    else f"no label in the target column {self.target_label!r}"
                )
                found.append((int(pos[row]), why))
        return found

    # -- the columns ----------------------------------------------------------------

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


def _format(path, suffixes):
    """Which reader reads ``path``: 'text', 'npy', 'parquet', 'arrow' or 'directory'."""
    if path == "-":
        return "text"
    if Path(path).is_dir():
        return "directory"
    last = suffixes[-1] if suffixes else ""
    if last == ".npy":
        return "npy"
    if last in _PARQUET:
        return "parquet"
    if last in _ARROW:
        return "arrow"
    try:  # a binary file under another name: its first bytes say what it is
        with open(path, "rb") as file:
            start = file.read(len(max(_MAGIC, key=len)))
    except OSError:
        return "text"  # (the text reader says why it cannot be read)
    return next((kind for magic, kind in _MAGIC.items() if start.startswith(magic)), "text")


def _rows(values, keep):
    return None if values is None else values[keep]


class _Rechunk:
    """Rows pushed in pieces of any size, given back in chunks of ``size`` rows."""

    def __init__(self, size):
        self.size, self.parts, self.count = size, [], 0

    def push(self, X, y):
        n = len(X) if X is not None else 0 if y is None else len(y)
        if not n:
            return
        self.parts.append((X, y))
        self.count += n
        if self.count < self.size:
            return
        X, y = self._joined()
        full = self.count - self.count % self.size
        for start in range(0, full, self.size):
            chunk = slice(start, start + self.size)
            yield _rows(X, chunk), _rows(y, chunk)
        rest = slice(full, None)
        self.parts = [(_rows(X, rest), _rows(y, rest))] if full < self.count else []
        self.count -= full

    def rest(self):
        if self.count:
            yield self._joined()

    def _joined(self):
        if len(self.parts) == 1:
            return self.parts[0]
        X, y = zip(*self.parts, strict=True)
        return (
            None if X[0] is None else np.concatenate(X),
            None if y[0] is None else np.concatenate(y),
        )
