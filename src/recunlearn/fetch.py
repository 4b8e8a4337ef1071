"""Fetch a raw dataset file into ``resources/``: https, file:// or a local path; checksum-verified; atomic.

Nothing partial is left behind: the file is streamed to ``<dest>.part`` while hashing, verified (md5 / sha256
when given, zip integrity for .zip files, the trust-on-first-use sha256 otherwise) and only then renamed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import Request, urlopen

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The file could not be fetched, or it is not the file we expected."""


def _open_source(url: str, timeout: float):
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        req = Request(url, headers={"User-Agent": "recunlearn (+https://github.com/)"})
        resp = urlopen(req, timeout=timeout)  # noqa: S310 - scheme checked above
        size = resp.headers.get("Content-Length")
        return resp, int(size) if size else None
    if parsed.scheme == "file":
        path = unquote(parsed.path)
    elif parsed.scheme == "":
        path = url
    else:
        raise DownloadError(f"{url}: unsupported URL scheme '{parsed.scheme}' (expected https, http, file or a path)")
    if not os.path.isfile(path):
        raise DownloadError(f"{url}: no such file")
    return open(path, "rb"), os.path.getsize(path)


def file_hashes(path: str | Path) -> dict[str, str]:
    """md5 and sha256 of a file, read once."""
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            md5.update(chunk)
            sha.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def check_zip(path: str | Path, label: str, member: str | None = None) -> None:
    """Raise DownloadError if ``path`` is not a complete zip archive (or lacks ``member``)."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise DownloadError(f"{label}: corrupt zip archive (CRC error in member '{bad}')")
            if member is not None and member not in zf.namelist():
                raise DownloadError(
                    f"{label}: zip archive has no member '{member}' (it has: {', '.join(zf.namelist()[:10])} ...)"
                )
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DownloadError(f"{label}: not a valid zip archive (truncated or corrupt download?): {exc}") from None


def tofu_path(dest: str | Path) -> Path:
    """Where the sha256 of a checksum-less source is recorded on first download."""
    dest = Path(dest)
    return dest.with_name(dest.name + ".sha256")


def fetch(source: dict, dest: str | Path, timeout: float = 60.0) -> dict[str, str]:
    """Download ``source['url']`` to ``dest`` and verify it; return its hashes.

    On any failure no file is left at ``dest`` (nor ``dest.part``) and DownloadError says why; a checksum
    mismatch names the expected and the actual hash.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    url = source["url"]
    t0 = time.monotonic()
    try:
        md5, sha = hashlib.md5(), hashlib.sha256()
        stream, total = _open_source(url, timeout)
        done, next_report = 0, 0
        with stream, open(part, "wb") as out:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                out.write(chunk)
                md5.update(chunk)
                sha.update(chunk)
                done += len(chunk)
                if done >= next_report:
                    pct = f" ({100 * done / total:.0f}%)" if total else ""
                    log.info("%s: %.1f MB%s", dest.name, done / 1e6, pct)
                    next_report = done + 20 * CHUNK
        if total is not None and done != total:
            raise DownloadError(f"{url}: truncated download: got {done} bytes, expected {total}")
        got = {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}
        for algo in ("md5", "sha256"):
            want = source.get(algo)
            if want and want.lower() != got[algo]:
                raise DownloadError(
                    f"{url}: {algo} mismatch for {dest}: expected {want.lower()}, got {got[algo]} "
                    f"(the file was removed)"
                )
        if dest.name.lower().endswith(".zip"):
            check_zip(part, f"{url}", source.get("member"))
        if not source.get("md5") and not source.get("sha256"):
            _trust_on_first_use(tofu_path(dest), url, got["sha256"])
        os.replace(part, dest)
    except BaseException as exc:
        part.unlink(missing_ok=True)
        dest.unlink(missing_ok=True)
        if isinstance(exc, DownloadError):
            raise
        if isinstance(exc, (OSError, ValueError)):
            raise DownloadError(f"{url}: download failed: {exc}") from exc
        raise
    log.info("%s: %.1f MB in %.1f s, md5 %s, sha256 %s", dest, done / 1e6, time.monotonic() - t0, got["md5"], got["sha256"])
    return got


def _trust_on_first_use(record: Path, url: str, sha256: str) -> None:
    if record.exists():
        want = record.read_text().split()[0].strip().lower()
        if want != sha256:
            raise DownloadError(
                f"{url}: sha256 mismatch: expected {want} (recorded on first download in {record}), got {sha256}; "
                f"delete {record} if the source legitimately changed"
            )
        log.info("%s: sha256 matches the one recorded on first download (%s)", url, record)
        return
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(f"{sha256}  {url}\n")
    os.replace(tmp, record)
    log.warning("%s has no published checksum: recorded sha256 %s in %s (trust on first use)", url, sha256, record)

