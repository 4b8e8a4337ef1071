"""MovieLens-100K from PyPI alone: GroupLens' ``u.data``, taken from the recbole 1.2.1 wheel.

The wheel ships ``recbole/dataset_example/ml-100k/ml-100k.inter``, which is ``u.data`` with one header line
(``user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float``). Without that line the bytes are
GroupLens' ``u.data`` exactly; the sha256 below is checked before the file is kept.

    python -m recunlearn.offline ml-100k [--dest data/ml-100k] [--wheel recbole-1.2.1-py3-none-any.whl]

The file is written to a temporary name beside its destination and renamed only once its sha256 matches,
so a failure leaves nothing behind; a file already in place with the right sha256 is left alone, and one
with another sha256 is refused, never overwritten.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .data import atomic_write, file_sha256

REQUIREMENT = "recbole==1.2.1"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
SHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
DEFAULT_DEST = Path("data/ml-100k")
CHUNK = 1 << 20


class OfflineError(RuntimeError):
    """The wheel could not be fetched or read, or its data is not the file we expected."""


def download_wheel(folder: str | Path) -> Path:
    """``pip download`` the recbole wheel (no dependencies, no source build) into ``folder``; its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           REQUIREMENT, "-d", str(folder)]
    proc = subprocess.run(cmd, stdout=sys.stderr)  # pip's progress goes to stderr; our summary to stdout
    if proc.returncode != 0:
        raise OfflineError(f"pip download {REQUIREMENT} failed (exit {proc.returncode}); "
                           f"download the wheel elsewhere and pass it with --wheel")
    wheels = sorted(Path(folder).glob("recbole-1.2.1-*.whl"))
    if not wheels:
        raise OfflineError(f"pip download {REQUIREMENT} left no recbole-1.2.1 wheel in {folder}")
    return wheels[0]


def extract_u_data(wheel: str | Path, target: str | Path, sha256: str = SHA256) -> int:
    """Write ``MEMBER`` of ``wheel`` minus its header line to ``target``, atomically; the number of lines.

    Raises OfflineError when the wheel is not a zip, lacks the member, or the result's sha256 is not ``sha256``
    (no file is left at ``target`` then, nor any temporary).
    """
    try:
        with atomic_write(target) as tmp, open(tmp, "wb") as out, zipfile.ZipFile(wheel) as zf:
            if MEMBER not in zf.namelist():
                raise OfflineError(f"{wheel}: no member {MEMBER} (is it the recbole 1.2.1 wheel?)")
            sha, lines = hashlib.sha256(), 0
            with zf.open(MEMBER) as src:
                src.readline()  # the header line
                for line in src:
                    out.write(line)
                    sha.update(line)
                    lines += 1
            if sha.hexdigest() != sha256.lower():  # raised inside the block: nothing replaces target
                raise OfflineError(f"{wheel}!{MEMBER}: sha256 mismatch: expected {sha256.lower()}, got "
                                   f"{sha.hexdigest()} (nothing written)")
    except zipfile.BadZipFile as exc:
        raise OfflineError(f"{wheel}: not a valid wheel (zip) file: {exc}") from None
    return lines


def ensure_ml100k(dest: str | Path = DEFAULT_DEST, wheel: str | Path | None = None, sha256: str = SHA256) -> str:
    """Make ``dest/u.data`` the MovieLens-100K ``u.data`` (sha256 ``sha256``); a one-line account of what was done."""
    target = Path(dest) / "u.data"
    if target.exists():  # a file of the user's is never overwritten: it may be their only copy of something else
        have = file_sha256(target)
        if have == sha256.lower():
            return f"{target}: already present, sha256 {have} (nothing to do)"
        raise OfflineError(f"{target} exists but is not MovieLens-100K's u.data (sha256 {have}, expected "
                           f"{sha256.lower()}); move it away and run this again")
    if wheel is not None:
        lines = extract_u_data(wheel, target, sha256)
        origin = str(wheel)
    else:
        with tempfile.TemporaryDirectory(prefix="recbole-wheel-") as folder:
            found = download_wheel(folder)
            lines = extract_u_data(found, target, sha256)
            origin = f"{found.name} (pip download {REQUIREMENT})"
    return f"{target}: wrote {lines:,} lines from {origin}, sha256 {sha256.lower()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recunlearn.offline",
                                     description="Fetch a dataset through the Python package index only.")
    parser.add_argument("dataset", choices=["ml-100k"], help="ml-100k: u.data from the recbole 1.2.1 wheel")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="folder of u.data (default: %(default)s)")
    parser.add_argument("--wheel", type=Path, help="an already downloaded recbole-1.2.1 wheel (skips pip download)")
    args = parser.parse_args(argv)
    try:
        print(ensure_ml100k(args.dest, args.wheel))
    except (OfflineError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
