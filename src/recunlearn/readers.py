"""Readers of the raw formats. Each returns raw (user, item) id arrays; ratings become implicit 1s later.

Formats: ``movielens_dat`` (``user::item::rating::time``), ``movielens_tab`` (tab-separated ``u.data``),
``lightgcn`` (``user item item ...`` per line; several files are concatenated), ``csv`` (named or indexed
user/item columns). A malformed line raises DataFormatError naming ``file:line`` and the offending text.
Good files take the vectorised pandas path; only a failure falls back to a line scan to find the culprit.
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
            return fh.read(), str(path)
    label = f"{path}!{member}"
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read(member), label
    except KeyError:
        raise DataFormatError(f"{path}: zip archive has no member '{member}'") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DataFormatError(f"{path}: not a valid zip archive (truncated or corrupt?): {exc}") from None


def _line(data: bytes, lineno: int) -> str:
    lines = data.split(b"\n", lineno)
    text = lines[lineno - 1] if len(lines) >= lineno else b""
    return text.rstrip(b"\r").decode("utf-8", "replace")[:200]


def _scan_fixed(data: bytes, label: str, sep: bytes, ncols: int, kinds: str) -> None:
    """Find the first malformed line of a fixed-width delimited file and raise on it."""
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
            try:
                int(field) if kind == "i" else float(field)
            except ValueError:
                what = "an integer" if kind == "i" else "a number"
                raise DataFormatError(
                    f"{label}:{lineno}: field {col + 1} should be {what}, got {field.decode('utf-8', 'replace')!r} "
                    f"in {_line(data, lineno)!r}"
                ) from None


def read_movielens(data: bytes, label: str, sep: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``user<sep>item<sep>rating<sep>timestamp`` with integer ids (ml-1m, ml-10m: ``::``; ml-100k: tab)."""
    kinds = "iifi"
    buf = data.replace(sep, b"\t") if sep != b"\t" else data
    try:
        df = pd.read_csv(io.BytesIO(buf), sep="\t", header=None, dtype=np.float64, engine="c")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        df = None
    bad = (
        df is None
        or df.shape[1] != 4
        or df.isna().to_numpy().any()
        or not np.all(np.mod(df.iloc[:, [0, 1, 3]].to_numpy(), 1) == 0)
    )
    if bad:
        _scan_fixed(data, label, sep, 4, kinds)
        if df is None or df.shape[0] == 0:
            raise DataFormatError(f"{label}: no interactions found")
        raise DataFormatError(f"{label}: could not parse the file as {len(kinds)} '{sep.decode()}'-separated fields")
    return df[0].to_numpy(np.int64), df[1].to_numpy(np.int64)


def read_lightgcn(data: bytes, label: str) -> tuple[np.ndarray, np.ndarray]:
    """One line per user: ``user item item ...`` (integer ids; a user may have no items on a line)."""
    users, items = [], []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        tokens = raw.split()
        if not tokens:
            continue
        try:
            ids = np.array(tokens).astype(np.int64)
        except ValueError:
            raise DataFormatError(
                f"{label}:{lineno}: expected integer ids 'user item item ...', got {_line(data, lineno)!r}"
            ) from None
        users.append(np.full(len(ids) - 1, ids[0], dtype=np.int64))
        items.append(ids[1:])
    if not users:
        raise DataFormatError(f"{label}: no interactions found")
    return np.concatenate(users), np.concatenate(items)


_PANDAS_LINE = re.compile(r"line (\d+)")


def read_csv(data: bytes, label: str, sep: str = ",", header: bool = True, user_col="user", item_col="item"):
    """Delimited text with user and item columns (names with a header, 0-based indices without)."""
    if not header and not (isinstance(user_col, int) and isinstance(item_col, int)):
        raise DataFormatError(f"{label}: without a header, user_col and item_col must be column indices")
    sep = sep.encode().decode("unicode_escape")
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
    # a trailing newline at the very end gives no row; any other empty id is an error
    if len(empty):
        lineno = int(empty[0]) + offset
        raise DataFormatError(f"{label}:{lineno}: empty user or item id: {_line(data, lineno)!r}")
    if len(df) == 0:
        raise DataFormatError(f"{label}: no interactions found")
    return tuple(_as_ids(c) for c in cols)


def _as_ids(col: pd.Series) -> np.ndarray:
    """Integer ids when every value is an integer (so that they sort numerically), strings otherwise."""
    as_num = pd.to_numeric(col, errors="coerce")
    if not as_num.isna().any() and np.all(np.mod(as_num.to_numpy(), 1) == 0):
        return as_num.to_numpy(np.int64)
    return col.to_numpy(dtype=str)


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
