"""Readers of the raw formats. Each returns raw (user, item) id arrays; ratings become implicit 1s later.

Formats: ``movielens_dat`` (``user::item::rating::time``), ``movielens_tab`` (tab-separated ``u.data``),
``lightgcn`` (``user item item ...`` per line; several files are concatenated), ``csv`` (named or indexed
user/item columns). A malformed line raises DataFormatError naming ``file:line`` and the offending text.
Good files take the vectorised pandas path; only a failure falls back to a line scan to find the culprit.

Ids are labels, read as text on every format: ``01`` and ``1``, ``1e3`` and ``1000`` are different users, and
an id of any length stays itself (``recunlearn.data.remap`` numbers them and keeps the labels in users.csv /
items.csv). Files must be UTF-8 (ASCII included); another encoding is refused naming the file and line.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd


class DataFormatError(ValueError):
    """A raw data file does not match its declared format."""


def read_bytes(path: str, member: str | None = None) -> tuple[bytes, str]:
    """The bytes of ``path`` (or of ``member`` inside the zip ``path``), and a label for messages."""
    if member is None:
        with open(path, "rb") as fh:
            data = fh.read()
        if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    names = [n for n in zf.namelist() if not n.endswith("/")]
            except (zipfile.BadZipFile, EOFError):
                names = []
            shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
            raise DataFormatError(
                f"{path}: is a zip archive; set the source's 'member' to the file to read (members: {shown or 'none'})"
            )
        return data, str(path)
    label = f"{path}!{member}"
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read(member), label
    except KeyError:
        raise DataFormatError(f"{path}: zip archive has no member '{member}'") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DataFormatError(f"{path}: not a valid zip archive (truncated or corrupt?): {exc}") from None


def check_utf8(data: bytes, label: str) -> None:
    """Raise DataFormatError naming ``file:line`` at the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise DataFormatError(
            f"{label}:{lineno}: byte 0x{data[exc.start]:02x} is not UTF-8 (in {_line(data, lineno)!r}); "
            f"save the file as UTF-8"
        ) from None


def _digits(col) -> np.ndarray:
    """Whether each value is a non-empty string of ASCII digits (vectorised: bytes compared as a uint8 matrix)."""
    values = np.asarray(col, dtype=object)
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    try:
        raw = values.astype("S")
    except (UnicodeEncodeError, TypeError, ValueError):  # non-ASCII text: check each value's characters
        return pd.Series(values, dtype=object).str.fullmatch(r"[0-9]+", na=False).to_numpy(bool)
    width = raw.dtype.itemsize
    if width == 0:
        return np.zeros(len(raw), dtype=bool)
    b = raw.view(np.uint8).reshape(len(raw), width)
    ok = ((b >= 48) & (b <= 57)) | (b == 0)
    return ok.all(axis=1) & (b[:, 0] != 0)


def _line(data: bytes, lineno: int) -> str:
    lines = data.split(b"\n", lineno)
    text = lines[lineno - 1] if len(lines) >= lineno else b""
    return text.rstrip(b"\r").decode("utf-8", "replace")[:200]


def _scan_fixed(data: bytes, label: str, sep: bytes, ncols: int, kinds: str) -> None:
    """Find the first malformed line of a fixed-width delimited file and raise on it (``i``: digits, ``f``: number)."""
    shown_sep = sep.decode().replace("\t", "\\t")
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != ncols:
            raise DataFormatError(
                f"{label}:{lineno}: expected {ncols} fields separated by '{shown_sep}', "
                f"found {len(fields)}: {_line(data, lineno)!r}"
            )
        for col, (kind, field) in enumerate(zip(kinds, fields)):
            if kind == "i":
                good = field.isdigit()
            else:
                try:
                    float(field)
                    good = True
                except ValueError:
                    good = False
            if not good:
                what = "an integer" if kind == "i" else "a number"
                raise DataFormatError(
                    f"{label}:{lineno}: field {col + 1} should be {what}, got {field.decode('utf-8', 'replace')!r} "
                    f"in {_line(data, lineno)!r}"
                )


def read_movielens(data: bytes, label: str, sep: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``user<sep>item<sep>rating<sep>timestamp`` with digit ids (ml-1m, ml-10m: ``::``; ml-100k: tab). The ids
    are returned as text labels."""
    kinds = "iifi"
    check_utf8(data, label)
    buf = data.replace(sep, b"\t") if sep != b"\t" else data
    try:
        df = pd.read_csv(io.BytesIO(buf), sep="\t", header=None, dtype=str, engine="c", keep_default_na=False,
                         na_filter=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        df = None
    bad = df is None or df.shape[1] != 4 or df.shape[0] == 0
    if not bad:
        rating = pd.to_numeric(df[2], errors="coerce").to_numpy(np.float64)
        bad = not (_digits(df[0]).all() and _digits(df[1]).all() and _digits(df[3]).all()
                   and not np.isnan(rating).any())
    if bad:
        _scan_fixed(data, label, sep, 4, kinds)
        if df is None or df.shape[0] == 0:
            raise DataFormatError(f"{label}: no interactions found")
        raise DataFormatError(f"{label}: could not parse the file as {len(kinds)} '{sep.decode()}'-separated fields")
    return df[0].to_numpy(dtype=str), df[1].to_numpy(dtype=str)


def read_lightgcn(data: bytes, label: str) -> tuple[np.ndarray, np.ndarray]:
    """One line per user: ``user item item ...`` (digit ids, returned as text labels; a user may have no items on
    a line)."""
    check_utf8(data, label)
    lines = pd.Series(data.decode("utf-8").split("\n"), dtype=object)
    tokens = lines.str.split()
    has = (tokens.str.len() > 0).to_numpy()
    pairs = pd.DataFrame({"user": tokens.str[0], "item": tokens.str[1:]})[has].explode("item")
    ids_ok = _digits(tokens[has].explode().dropna())
    if not ids_ok.all():
        for lineno, toks in enumerate(tokens, 1):  # a failure only: find the first bad line
            if toks and not all(t.isascii() and t.isdigit() for t in toks):
                raise DataFormatError(
                    f"{label}:{lineno}: expected integer ids 'user item item ...', got {_line(data, lineno)!r}"
                )
    pairs = pairs.dropna()
    if len(pairs) == 0:
        raise DataFormatError(f"{label}: no interactions found")
    return pairs["user"].to_numpy(dtype=str), pairs["item"].to_numpy(dtype=str)


_PANDAS_LINE = re.compile(r"line (\d+)")


def read_csv(data: bytes, label: str, sep: str = ",", header: bool = True, user_col="user", item_col="item"):
    """Delimited text with user and item columns (names with a header, 0-based indices without)."""
    if not header and not (isinstance(user_col, int) and isinstance(item_col, int)):
        raise DataFormatError(f"{label}: without a header, user_col and item_col must be column indices")
    sep = sep.encode().decode("unicode_escape")
    check_utf8(data, label)
    data = data.rstrip(b"\r\n")  # trailing blank lines give no row (as in the other formats)
    try:
        df = pd.read_csv(
            io.BytesIO(data), sep=sep, header=0 if header else None, dtype=str, keep_default_na=False,
            na_filter=False, skip_blank_lines=False, engine="c" if len(sep) == 1 else "python",
        )
    except pd.errors.ParserError as exc:
        m = _PANDAS_LINE.search(str(exc))
        if m:
            lineno = int(m.group(1))
            raise DataFormatError(f"{label}:{lineno}: wrong number of fields: {_line(data, lineno)!r}") from None
        raise DataFormatError(f"{label}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise DataFormatError(f"{label}: empty file") from None
    cols = []
    for key, col in (("user_col", user_col), ("item_col", item_col)):
        if col not in df.columns:
            raise DataFormatError(f"{label}: no column {col!r} for {key} (columns: {', '.join(map(str, df.columns))})")
        cols.append(df[col].str.strip())
    offset = 2 if header else 1
    empty = np.flatnonzero((cols[0] == "").to_numpy() | (cols[1] == "").to_numpy())
    if len(empty):
        lineno = int(empty[0]) + offset
        raise DataFormatError(f"{label}:{lineno}: empty user or item id: {_line(data, lineno)!r}")
    if len(df) == 0:
        raise DataFormatError(f"{label}: no interactions found")
    return cols[0].to_numpy(dtype=str), cols[1].to_numpy(dtype=str)


def read_raw(fmt: str, files: list[tuple[str, str | None]], csv_options: dict | None = None):
    """Raw (user, item) arrays of a dataset given its format and its ``(path, zip member or None)`` files."""
    parts = []
    for path, member in files:
        data, label = read_bytes(path, member)
        if fmt == "movielens_dat":
            parts.append(read_movielens(data, label, b"::"))
        elif fmt == "movielens_tab":
            parts.append(read_movielens(data, label, b"\t"))
        elif fmt == "lightgcn":
            parts.append(read_lightgcn(data, label))
        elif fmt == "csv":
            parts.append(read_csv(data, label, **(csv_options or {})))
        else:
            raise DataFormatError(f"{label}: format '{fmt}' has no reader")
    users = np.concatenate([p[0] for p in parts])
    items = np.concatenate([p[1] for p in parts])
    return users, items
