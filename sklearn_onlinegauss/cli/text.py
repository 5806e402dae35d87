"""CSV or TSV text through ``pyarrow.csv.open_csv``, every row with its line number.

The first lines are read here: the delimiter is guessed from them, and the
first row is taken for a header or for data. pyarrow then parses the rest,
every column as text (so that a bad field is found in its row, not refused
with the whole block), and :func:`.arrow.floats` converts the columns. A file
is one stream; standard input is parsed a block of whole lines at a time,
each as soon as it has come, so that a live stream is fitted as it flows.

Line numbers: pyarrow keeps every line (``ignore_empty_lines=False``), as a
row or, if its number of fields is wrong, as a call of the invalid-row
handler with its line number; the rows' numbers follow from those (a blank
line is a row of empty fields, dropped here).
"""

import csv
import lzma
import re
import sys

import numpy as np

from .arrow import ICONV, floats, labels, pyarrow
from .readers import DataError, Piece

#: Text read to guess the delimiter (the first line is read whole, however long).
_SAMPLE = 64 * 1024
#: Bytes pyarrow parses at a time (a line may be as long).
_BLOCK = 1 << 22
#: Largest block of standard input parsed at once, whatever --chunk-size says.
_STDIN_BLOCK = 1 << 20
#: Compressed files that pyarrow decompresses, by extension (xz by Python's lzma).
_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4", ".br": "brotli"}
_LZMA = (".xz", ".lzma")
_EOL = re.compile(rb"\r\n|\r|\n")
#: The first bytes of binary files that are given as text by mistake.
_MAGIC = {
    b"PAR1": "a Parquet file: name it .parquet",
    b"ARROW1": "an Arrow IPC (Feather) file: name it .feather or .arrow",
    b"\x93NUMPY": "a NumPy array: name it .npy",
    b"PK\x03\x04": "a zip archive (an .npz file?)",
    b"\x1f\x8b": "gzip-compressed: name it .gz",
}


def pieces(reader, labels_only):
    """The rows of a text file or of standard input, as :class:`~.readers.Piece` objects."""
    pa = pyarrow()
    from pyarrow import csv as arrow_csv

    stdin = reader.path == "-"
    raw = sys.stdin.buffer if stdin else _open(reader)
    try:
        head = _Head(reader, raw, stdin)
    finally:
        if not stdin:
            raw.close()
    lines = _Lines(head.skip + 1)
    names = [f"c{i}" for i in range(head.width)]
    t = reader._target_index
    options = {
        "parse_options": arrow_csv.ParseOptions(
            delimiter=reader.delimiter,
            ignore_empty_lines=False,
            invalid_row_handler=lines.invalid,
        ),
        "convert_options": arrow_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=[names[t]] if labels_only else None,
            null_values=[""],
            strings_can_be_null=True,
            check_utf8=False,  # checked value by value where a value is bad
        ),
    }
    convert = _Converter(reader, head.header, head.width, labels_only)
    if stdin:
        streams = ((pa.py_buffer(block), 0) for block in _blocks(head.rest, raw, reader))
    else:
        streams = [(_open(reader), head.skip)]
    for stream, skip in streams:
        lines.offset = lines.first - 1 + lines.consumed if stdin else 0
        read = arrow_csv.ReadOptions(
            use_threads=False,  # lines numbered by the invalid-row handler
            block_size=_BLOCK if not stdin else max(stream.size, 1) + 1,
            column_names=names,
            skip_rows=skip,
        )
        for batch in _batches(reader, arrow_csv.open_csv, stream, read, options):
            yield convert(batch, lines.take(batch.num_rows), lines.due)
    yield Piece(None, None, np.zeros(0, np.int64), lines.due(None), reader.name)


def _batches(reader, open_csv, stream, read, options):
    """The record batches of ``open_csv``, pyarrow's errors as one DataError line."""
    pa = pyarrow()
    try:
        batches = iter(open_csv(stream, read, **options))
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            yield batch
    except (OSError, EOFError, lzma.LZMAError, pa.ArrowException) as exc:
        raise DataError(f"{reader.name}: cannot be read ({exc})") from None


def _open(reader):
    """The file's bytes, decompressed as its extension says."""
    pa = pyarrow()
    last = reader.suffixes[-1] if reader.suffixes else ""
    try:
        if last in _LZMA:
            return lzma.open(reader.path, "rb")
        return pa.input_stream(reader.path, compression=_CODECS.get(last))
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{reader.name}: cannot be read ({exc})") from None


class _Lines:
    """The line number of every row pyarrow gives: ``first`` is the first data line.

    Every line after the header is a row or a call of ``invalid`` (a line of
    the wrong number of fields, which pyarrow skips): the ``k``-th row is on
    line ``first + k`` plus the skipped lines before it. pyarrow may parse a
    block ahead, so skipped lines are kept until the rows reach them.
    """

    def __init__(self, first):
        self.first, self.offset, self.rows = first, 0, 0
        self.skipped, self.passed, self.bad = [], 0, []

    @property
    def consumed(self):
        return self.rows + self.passed + len(self.skipped)

    def invalid(self, row):
        line = self.offset + (row.number or 0)
        self.skipped.append(line)
        if row.text.strip():  # a line of blanks is no row, as an empty line
            found = f"expected {row.expected_columns} fields, found {row.actual_columns}"
            self.bad.append((line, found))
        return "skip"

    def take(self, n):
        """The line numbers of the next ``n`` rows."""
        k = self.rows + np.arange(n)
        skipped = np.asarray(self.skipped, dtype=np.int64)
        # Rows before the i-th pending skipped line: its line less those before it.
        before = skipped - self.first - self.passed - np.arange(len(skipped))
        after = np.searchsorted(before, k, side="right")
        self.rows += n
        gone = int(np.searchsorted(before, self.rows - 1, side="right")) if n else 0
        self.passed += gone
        del self.skipped[:gone]
        return self.first + k + self.passed - gone + after

    def due(self, last):
        """The bad lines up to ``last`` (all if None), taken from those kept."""
        n = len(self.bad) if last is None else sum(1 for line, _ in self.bad if line <= last)
        due, self.bad = self.bad[:n], self.bad[n:]
        return due


class _Converter:
    """A batch of text columns as a :class:`~.readers.Piece` of features and labels."""

    def __init__(self, reader, header, width, labels_only):
        self.reader, self.labels_only = reader, labels_only
        index = reader._feature_index
        self.index = list(range(width)) if index is None else index
        self.names = [repr(header[i]) if header else str(i) for i in range(width)]
        self.blanks = set()  # columns of numbers with blanks around them

    def __call__(self, batch, pos, due):
        pa = pyarrow()
        reader = self.reader
        blank = _blank(batch)
        if blank is not None:  # empty lines: no rows at all
            keep = np.flatnonzero(~blank)
            batch, pos = batch.take(pa.array(keep)), pos[keep]
        bad = {}
        X = y = None
        if not self.labels_only:
            values = []
            for i in self.index:
                column, why = floats(batch.column(i), self.names[i], blanks=self.blanks)
                values.append(column)
                for row, text in why.items():
                    bad.setdefault(row, text)
            X = np.column_stack(values) if values else np.zeros((len(pos), 0))
        if reader._target_index is not None:
            t = 0 if self.labels_only else reader._target_index
            y, why = labels(batch.column(t))
            for row, text in why.items():
                bad.setdefault(row, text)
        found = [(int(pos[row]), text) for row, text in bad.items()]
        last = int(pos[-1]) if len(pos) else 0
        return Piece(X, y, pos, sorted(found + due(last)), reader.name)


def _blank(batch):
    """Which rows have every field empty (None if none may have)."""
    if not batch.num_columns or not batch.column(0).null_count:
        return None
    blank = np.ones(batch.num_rows, bool)
    for column in batch.columns:
        if not column.null_count:
            return None
        blank &= column.is_null().to_numpy(zero_copy_only=False)
    return blank if blank.any() else None


class _Head:
    """The first lines: the delimiter, the width, the header; ``skip`` lines before the data.

    ``rest`` holds the bytes read past them, for standard input.
    """

    def __init__(self, reader, raw, stdin):
        self.reader = reader
        data, ends = _first_lines(raw, stdin)
        if b"\x00" in data[:_SAMPLE]:
            raise DataError(_binary(reader.name, data))
        first = next((k for k, (a, b) in enumerate(ends) if data[a:b].strip()), None)
        if first is None:
            raise DataError(f"{reader.name}: the file is empty")
        start, end = ends[first]
        line = self._decode(data[start:end], first + 1)
        sample = [line] if stdin else [data[a:b].decode("utf-8", "replace") for a, b in ends]
        _delimiter(reader, sample)
        row = next(csv.reader([line], delimiter=reader.delimiter))
        self.width = len(row)
        is_header = _is_header(reader, row, first + 1)
        self.header = [field.strip() for field in row] if is_header else None
        reader._feature_index = reader._select(self.header, self.width)
        self.skip = first + is_header
        rest_from = ends[first][1] if is_header else start
        if is_header:  # the header's line ending is the header's
            ending = _EOL.match(data, rest_from)
            rest_from = ending.end() if ending else len(data)
        self.rest = data[rest_from:]

    def _decode(self, line, number):
        try:
            # utf-8-sig: a byte-order mark (as Excel writes) is not part of the data.
            return line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 1]
            raise DataError(
                f"{self.reader.name}, line {number}: not UTF-8 text (byte {bad!r}); {ICONV}"
            ) from None


def _first_lines(raw, stdin):
    """``(data, ends)``: bytes read and the ``(start, end)`` of each whole line in them.

    A file gives 64 kB of lines or all of it; standard input its first line
    that is not blank, and no more than it has sent with it.
    """
    data = b""
    while True:
        block = raw.read1(_SAMPLE) if stdin else raw.read(_SAMPLE)
        data += block
        ends, start = [], 0
        for match in _EOL.finditer(data):
            if match.end() == len(data) and data.endswith(b"\r") and block:
                break  # maybe \r\n, the \n still to come
            ends.append((start, match.start()))
            start = match.end()
        if not block and start < len(data):
            ends.append((start, len(data)))  # a last line without its line ending
        found = any(data[a:b].strip() for a, b in ends)
        if not block or (found and (stdin or len(data) >= _SAMPLE)):
            return data, ends


def _blocks(data, raw, reader):
    """Standard input after its first lines, in blocks of whole lines, as soon as they come.

    A block is given once it has ``chunk_size`` lines (or 1 MB), or at the end.
    """
    while True:
        if _count_lines(data) >= reader.chunk_size or len(data) >= _STDIN_BLOCK:
            cut = _cut(data)
            if cut:
                yield data[:cut]
                data = data[cut:]
                continue
        block = raw.read1(_SAMPLE)
        if not block:
            if data:
                yield data
            return
        data += block


def _count_lines(data):
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _cut(data):
    """Where the last whole line of ``data`` ends (a \\r at the very end may be half a \\r\\n)."""
    end = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
    return end


def _delimiter(reader, sample):
    if reader.delimiter is not None:
        return
    inner = [s for s in reader.suffixes if s not in _CODECS and s not in _LZMA]
    if inner[-1:] == [".tsv"]:
        reader.delimiter = "\t"
        return
    try:
        reader.delimiter = csv.Sniffer().sniff("\n".join(sample), delimiters=",;\t|").delimiter
    except csv.Error:
        reader.delimiter = ","
    if reader.delimiter != ",":
        reader.guessed_delimiter = reader.delimiter


def _is_header(reader, row, line):
    if reader.header != "auto":
        return reader.header == "yes"
    numbers = [field for field in row if _is_number(field)]
    if len(numbers) == len(row):
        return False
    if numbers:
        text = next(field for field in row if not _is_number(field))
        raise DataError(
            f"{reader.name}, line {line}: the first row mixes numbers and names (e.g. "
            f"{numbers[0].strip()!r} and {text.strip()!r}): name every column if it "
            "is a header, fix the value if it is data, or say which with --header "
            "yes or --header no"
        )
    return True


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _binary(name, data):
    line = data.count(b"\n", 0, data.index(b"\x00")) + 1
    what = next((w for magic, w in _MAGIC.items() if data.startswith(magic)), None)
    return f"{name}, line {line}: not readable as CSV (a NUL byte: not text)" + (
        f"; it is {what}" if what else ""
    )
