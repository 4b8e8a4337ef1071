"""Fetch a raw dataset file into ``resources/``: https, file:// or a local path; checksum-verified; atomic.

Nothing partial is left behind: the file is streamed to ``<dest>.part`` while hashing, verified (md5 / sha256
when given, zip integrity for .zip files, the trust-on-first-use sha256 otherwise) and only then renamed.
Only network errors (refused or reset connections, timeouts, HTTP 5xx, a download cut short) are retried: a
checksum mismatch, a missing file, an HTTP 404 or a corrupt zip fails at once, as retrying cannot change it.
A local source (a path or ``file://``) is only ever read: it is copied, never moved, rewritten or removed.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import time
import zipfile
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from .data import write_atomic
from .datasets import local_path

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The file could not be fetched, or it is not the file we expected."""


class NetworkError(DownloadError):
    """A transient failure of the transfer itself: worth retrying."""


def _open_source(url: str, timeout: float):
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        req = Request(url, headers={"User-Agent": "recunlearn (+https://github.com/)"})
        try:
            resp = urlopen(req, timeout=timeout)  # noqa: S310 - scheme checked above
        except HTTPError as exc:
            transient = exc.code >= 500 or exc.code in (408, 429)
            raise (NetworkError if transient else DownloadError)(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            raise NetworkError(f"{url}: download failed: {getattr(exc, 'reason', exc)}") from None
        size = resp.headers.get("Content-Length")
        return resp, int(size) if size else None
    path = local_path(url)
    if path is None:
        raise DownloadError(f"{url}: unsupported URL scheme '{parsed.scheme}' (expected https, http, file or a path)")
    if not os.path.isfile(path):
        raise DownloadError(f"{url}: no such file")
    return open(path, "rb"), os.path.getsize(path)


def _read(stream, url: str, remote: bool) -> bytes:
    try:
        return stream.read(CHUNK)
    except (OSError, http.client.HTTPException) as exc:
        if remote:
            raise NetworkError(f"{url}: download interrupted: {exc}") from None
        raise DownloadError(f"{url}: cannot read: {exc}") from None


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


def fetch(source: dict, dest: str | Path, timeout: float = 60.0, retries: int = 0, backoff: float = 5.0) -> dict[str, str]:
    """Download ``source['url']`` to ``dest`` and verify it; return its hashes.

    On any failure no file is left at ``dest`` (nor ``dest.part``) and DownloadError says why; a checksum
    mismatch names the expected and the actual hash. A network error is retried up to ``retries`` times (waiting
    ``backoff`` seconds, doubled each time); any other failure is raised at once.
    """
    for attempt in range(retries + 1):
        try:
            return _fetch_once(source, Path(dest), timeout)
        except NetworkError as exc:
            if attempt == retries:
                if retries:
                    raise NetworkError(f"{exc} (gave up after {retries + 1} attempts)") from None
                raise
            wait = backoff * 2**attempt
            log.warning("%s; attempt %d of %d failed, retrying in %.0f s", exc, attempt + 1, retries + 1, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def _fetch_once(source: dict, dest: Path, timeout: float) -> dict[str, str]:
    url = source["url"]
    local = local_path(url)
    if local is not None and Path(local).resolve() in (dest.resolve(), dest.with_name(dest.name + ".part").resolve()):
        raise DownloadError(f"{url}: the source is the destination {dest} itself; keep the source outside resources/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    t0 = time.monotonic()
    try:
        md5, sha = hashlib.md5(), hashlib.sha256()
        stream, total = _open_source(url, timeout)
        done, next_report = 0, 0
        with stream, open(part, "wb") as out:
            for chunk in iter(lambda: _read(stream, url, local is None), b""):
                out.write(chunk)
                md5.update(chunk)
                sha.update(chunk)
                done += len(chunk)
                if done >= next_report:
                    pct = f" ({100 * done / total:.0f}%)" if total else ""
                    log.info("%s: %.1f MB%s", dest.name, done / 1e6, pct)
                    next_report = done + 20 * CHUNK
        if total is not None and done != total:
            error = NetworkError if local is None else DownloadError
            raise error(f"{url}: truncated download: got {done} bytes, expected {total}")
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
            _trust_on_first_use(tofu_path(dest), url, got["sha256"], local=local is not None)
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


def _trust_on_first_use(record: Path, url: str, sha256: str, local: bool = False) -> None:
    """Check a checksum-less remote source against the sha256 recorded on its first download. A local source is
    the user's own file: when it changed, the new file is what they want, so its new sha256 is recorded instead."""
    if record.exists():
        want = record.read_text().split()[0].strip().lower()
        if want == sha256:
            log.info("%s: sha256 matches the one recorded on first download (%s)", url, record)
            return
        if not local:
            raise DownloadError(
                f"{url}: sha256 mismatch: expected {want} (recorded on first download in {record}), got {sha256}; "
                f"delete {record} if the source legitimately changed"
            )
        log.warning("%s changed since it was last copied (sha256 %s, now %s): using the new file", url, want, sha256)
    write_atomic(record, f"{sha256}  {url}\n")
    if not local:
        log.warning("%s has no published checksum: recorded sha256 %s in %s (trust on first use)", url, sha256, record)
