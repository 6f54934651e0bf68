"""A file of image sizes in, three int64 arrays out: the input of a cost plan.

The arrays are widths, heights and counts; preflight._runs.costplan plans
them.

Rules:
- CSV with a header naming `width` and `height` and optionally `count`
  (any order, other columns ignored, names case-insensitive), or other
  names given as `columns` (the command line's --columns); Parquet with
  those columns (pyarrow, an optional extra); a binary stream (stdin) is
  read as CSV;
- CSV as spreadsheets save it: a UTF-8 byte-order mark (Excel's "CSV
  UTF-8") is dropped, UTF-16 with its mark (Excel's "Unicode Text") is
  read as such, and the separator is comma, semicolon, tab or pipe,
  whichever the header line holds most of (the first of those on a tie),
  unless one is given;
- fast where it can be: pyarrow's multithreaded CSV reader when installed,
  else pandas' C reader, else numpy alone (slower, always there); every
  reader's arrays pass the same checks;
- a bad file is one line of DataError (SizesFileError) naming the file and,
  for a bad row, its line number: a missing column, a value that is not a
  whole number, a size under 1 (a count under 0), a number past 2**62, no
  rows, a row with the wrong number of fields, a field longer than any
  number (budgets.MAX_CSV_FIELD);
- it is read within a bound (budgets.MAX_SIZES_FILE_BYTES), from a file, a
  device or a stream alike: more is one line of SizesFileError.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from preflight._core.budgets import MAX_CSV_FIELD, MAX_SIZES_FILE_BYTES
from preflight._core.geometry import MAX_SIDE
from preflight.errors import InvalidArgumentError, SourceError
from preflight.errors import SizesFileError as SizesFileError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    IntArray = NDArray[np.int64]

COLUMNS = ("width", "height", "count")
READERS = ("auto", "pyarrow", "pandas", "numpy")


@dataclass(frozen=True)
class Sizes:
    widths: IntArray
    heights: IntArray
    counts: IntArray | None  # None: one image per row
    source: str  # the file's name, for messages
    reader: str  # which reader read it

    def __len__(self) -> int:
        return int(self.widths.size)


SizesSource = str | os.PathLike[str] | IO[bytes]


SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_sizes(
    source: SizesSource,
    *,
    reader: str = "auto",
    format: str = "auto",
    separator: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Sizes:
    """Read `width,height[,count]` rows from a CSV or Parquet file, or a
    binary stream of CSV ("-" is standard input). `separator`: one of
    SEPARATORS (default: sniffed from the header line); `columns`: the
    file's names for width, height and count ({"width": "W", ...})."""
    if reader not in READERS:
        raise SizesFileError(f"unknown reader {reader!r}; known: {', '.join(READERS)}")
    if separator is not None and separator not in SEPARATORS:
        raise InvalidArgumentError(
            f"unknown separator {separator!r}; known: comma, semicolon, tab, pipe"
        )
    wanted = _wanted_columns(columns)
    if source == "-":
        import sys

        source = sys.stdin.buffer
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        kind = format if format != "auto" else ("parquet" if _is_parquet(path) else "csv")
        if kind == "parquet":
            _check_file_size(path, name)
            return _read_parquet(path, name, wanted)
        try:
            with path.open("rb") as handle:
                data = _bounded(handle.read(MAX_SIZES_FILE_BYTES + 1), name)
        except OSError as error:
            raise SourceError(f"{name}: cannot read ({error.strerror or error})") from None
    else:
        name = getattr(source, "name", "<stream>")
        name = name if isinstance(name, str) else "<stream>"
        data = _bounded(source.read(MAX_SIZES_FILE_BYTES + 1), name)
        if format == "parquet" or data[:4] == b"PAR1":
            return _read_parquet(io.BytesIO(data), name, wanted)
    return _read_csv(data, name, reader, separator, wanted)


def _wanted_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    """{width, height, count: the file's name for it, lower case}."""
    given = {k.strip().lower(): v.strip().lower() for k, v in (columns or {}).items()}
    unknown = sorted(set(given) - set(COLUMNS))
    if unknown:
        raise InvalidArgumentError(
            f"unknown column {unknown[0]!r}: the columns are {', '.join(COLUMNS)}"
        )
    if not all(given.values()):
        raise InvalidArgumentError("a column's name is empty")
    return {role: given.get(role, role) for role in COLUMNS}


def _bounded(data: bytes, name: str) -> bytes:
    if len(data) > MAX_SIZES_FILE_BYTES:
        raise SizesFileError(
            f"{name}: more than {MAX_SIZES_FILE_BYTES:,} bytes: larger than preflight reads "
            "as a file of sizes (split it)"
        )
    return data


def _check_file_size(path: Path, name: str) -> None:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SourceError(f"{name}: cannot read ({error.strerror or error})") from None
    if size > MAX_SIZES_FILE_BYTES:
        raise SizesFileError(
            f"{name}: more than {MAX_SIZES_FILE_BYTES:,} bytes: larger than preflight reads "
            "as a file of sizes (split it)"
        )


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None


# --- CSV ---------------------------------------------------------------------


def _read_csv(
    data: bytes, name: str, reader: str, separator: str | None, wanted: dict[str, str]
) -> Sizes:
    data = _as_utf8(data, name)
    if not data.strip():
        raise SizesFileError(f"{name}: empty: expected a header 'width,height[,count]' and rows")
    header = data.partition(b"\n")[0].decode("utf-8", "replace").rstrip("\r")
    sep = separator or _sniffed(header)
    names = [c.strip().strip('"').strip().lower() for c in header.split(sep)]
    columns = _columns(names, name, wanted, sep)
    order = _available(reader)
    for choice in order:
        try:
            arrays = _CSV_READERS[choice](data, names, columns, sep)
        except _Unreadable:
            break  # a bad value: the slow scan below says where
        if arrays is not None:
            return _checked(arrays, name, choice, lambda i: i + 2, data)
    _scan_for_error(data, name, names, columns, sep)
    raise SizesFileError(f"{name}: cannot read the sizes")  # pragma: no cover


def _as_utf8(data: bytes, name: str) -> bytes:
    """The CSV as UTF-8 without a byte-order mark: Excel's "CSV UTF-8" starts
    with one, its "Unicode Text" is UTF-16 with one."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise SizesFileError(f"{name}: not valid UTF-16 after its byte-order mark") from None
    return data


def _sniffed(header: str) -> str:
    """The separator the header line holds most of (the first of SEPARATORS
    on a tie; a comma for a header of one name)."""
    counts = [header.count(s) for s in SEPARATORS]
    return SEPARATORS[counts.index(max(counts))]


class _Unreadable(Exception):
    pass


def _columns(
    names: list[str], name: str, wanted: dict[str, str], separator: str | None = None
) -> list[int]:
    """The positions of width, height and (if there is one) count."""
    renamed = any(wanted[c] != c for c in COLUMNS)
    # count is optional unless the caller named it.
    required = COLUMNS if wanted["count"] != "count" else COLUMNS[:2]
    missing = [wanted[c] for c in required if wanted[c] not in names]
    if missing:
        found = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
        split = _SEPARATOR_NAMES.get(separator or "")
        where = f" (split at each {split})" if split else ""
        hint = "" if renamed else "; name others with --columns width=W,height=H[,count=N]"
        raise SizesFileError(
            f"{name}: line 1: no column {' or '.join(repr(c) for c in missing)}; "
            f"the header has {found}{where}{hint}"
        )
    return [names.index(wanted[c]) for c in COLUMNS if wanted[c] in names]


def _available(reader: str) -> list[str]:
    if reader != "auto":
        return [reader]
    import importlib.util

    return [r for r in ("pyarrow", "pandas") if importlib.util.find_spec(r)] + ["numpy"]


def _via_pyarrow(data: bytes, names: list[str], columns: list[int], sep: str) -> list[Any] | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Positional names: the header's own may repeat or be empty.
    labels = [f"c{i}" for i in range(len(names))]
    wanted = [labels[i] for i in columns]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=labels, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted, column_types=dict.fromkeys(wanted, pa.int64())
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise _Unreadable from error
    return [_no_nulls(table.column(c).to_numpy()) for c in wanted]


def _via_pandas(data: bytes, names: list[str], columns: list[int], sep: str) -> list[Any] | None:
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=sep,
            usecols=columns,
            dtype=dict.fromkeys(columns, np.int64),
            header=0,
            engine="c",
        )
    except (ValueError, OverflowError, pd.errors.ParserError) as error:
        raise _Unreadable from error
    # pandas keeps a row's extra fields to itself: the separators must add up.
    if data.count(sep.encode()) != (len(names) - 1) * (len(frame) + 1):
        raise _Unreadable
    in_file_order = sorted(columns)
    return [frame.iloc[:, in_file_order.index(i)].to_numpy(dtype=np.int64) for i in columns]


def _via_numpy(data: bytes, names: list[str], columns: list[int], sep: str) -> list[Any] | None:
    """Numpy alone: the rows split at the separator and newlines, each field
    parsed by numpy's integer conversion; the row shape is checked first."""
    import numpy as np

    split = sep.encode()
    body = data.partition(b"\n")[2].replace(b"\r", b"")
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        return [np.empty(0, np.int64) for _ in columns]
    fields = len(names)
    joined = split.join(lines)
    if joined.count(split) + 1 != fields * len(lines):
        raise _Unreadable
    cells = joined.split(split)
    try:
        return [np.array(cells[i::fields], dtype=np.int64) for i in columns]
    except (ValueError, OverflowError) as error:
        raise _Unreadable from error


def _no_nulls(array: Any) -> Any:
    import numpy as np

    if array.dtype != np.int64:  # nulls came back as floats or objects
        raise _Unreadable
    return array


_CSV_READERS = {"pyarrow": _via_pyarrow, "pandas": _via_pandas, "numpy": _via_numpy}


def _scan_for_error(
    data: bytes, name: str, names: list[str], columns: list[int], sep: str = ","
) -> None:
    """The slow path, for a file a fast reader refused: find the first bad row."""
    text = io.StringIO(data.decode("utf-8", "replace"), newline="")
    rows = _rows(csv.reader(text, delimiter=sep), name)
    next(rows, None)
    for number, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(names):
            raise SizesFileError(
                f"{name}: line {number}: {len(row)} fields, the header has {len(names)}"
            )
        for i in columns:
            value = row[i].strip()
            if not (value.isascii() and value.lstrip("+-").isdigit()):
                raise SizesFileError(
                    f"{name}: line {number}: {names[i]} {value!r} is not a whole number"
                )
            _check_value(int(value), names[i], name, number)
    raise SizesFileError(f"{name}: cannot read the sizes (not a CSV of whole numbers)")


def _rows(reader: Any, name: str) -> Any:
    """The csv reader's rows; a field past MAX_CSV_FIELD is a SizesFileError
    at its line (csv's own limit, raised as csv.Error, is the same size)."""
    previous = csv.field_size_limit(MAX_CSV_FIELD)
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise SizesFileError(
                    f"{name}: line {reader.line_num}: not a CSV of whole numbers ({error})"
                ) from None
            yield row
    finally:
        csv.field_size_limit(previous)


def _check_value(value: int, column: str, name: str, line: int) -> None:
    low = 0 if column == "count" else 1
    if value < low:
        raise SizesFileError(f"{name}: line {line}: {column} {value} is under {low}")
    if value > MAX_SIDE:
        raise SizesFileError(f"{name}: line {line}: {column} is past 2**62")


# --- Parquet -------------------------------------------------------------------


def _read_parquet(source: Path | IO[bytes], name: str, wanted: dict[str, str]) -> Sizes:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SizesFileError(
            f"{name}: reading Parquet needs pyarrow: pip install 'preflight[parquet]'"
        ) from None
    import pyarrow as pa

    try:
        schema = pq.read_schema(source)
        names = [n.lower() for n in schema.names]
        columns = _columns(names, name, wanted)
        if hasattr(source, "seek"):
            source.seek(0)
        table = pq.read_table(source, columns=[schema.names[i] for i in columns])
    except (pa.ArrowInvalid, OSError) as error:
        raise SizesFileError(f"{name}: not a readable Parquet file ({error})") from None
    arrays = []
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_integer(column.type) or column.null_count:
            raise SizesFileError(
                f"{name}: column {column_name!r} must hold whole numbers without gaps "
                f"(it is {column.type}, {column.null_count} missing)"
            )
        arrays.append(column.to_numpy().astype("int64", copy=False))
    return _checked(arrays, name, "pyarrow", lambda i: i + 1, None, rows_word="row")


# --- the checks every reader's arrays pass ---------------------------------------


def _checked(
    arrays: list[Any],
    name: str,
    reader: str,
    line_of: Any,
    data: bytes | None,
    rows_word: str = "line",
) -> Sizes:
    import numpy as np

    widths, heights = arrays[0], arrays[1]
    counts = arrays[2] if len(arrays) > 2 else None
    if widths.size == 0:
        raise SizesFileError(f"{name}: no rows under the header")
    for column, array in zip(COLUMNS, arrays, strict=False):
        low = 0 if column == "count" else 1
        bad = (array < low) | (array > MAX_SIDE)
        if bad.any():
            first = int(np.argmax(bad))
            value = int(array[first])
            where = _line_of_row(data, first) if data is not None else line_of(first)
            what = "is past 2**62" if value > MAX_SIDE else f"{value} is under {low}"
            raise SizesFileError(f"{name}: {rows_word} {where}: {column} {what}")
    return Sizes(
        np.ascontiguousarray(widths, dtype=np.int64),
        np.ascontiguousarray(heights, dtype=np.int64),
        None if counts is None else np.ascontiguousarray(counts, dtype=np.int64),
        name,
        reader,
    )


def _line_of_row(data: bytes, row: int) -> int:
    """The line number of data row `row` (0-based), blank lines skipped as the readers do."""
    number = 1
    seen = -1
    for number, line in enumerate(data.split(b"\n")[1:], start=2):
        if line.strip():
            seen += 1
            if seen == row:
                return number
    return number
