"""Downloads: checksum verification, truncated archives, trust on first use; nothing partial left behind."""

import hashlib
import zipfile

import pytest

from recunlearn.data import prepare
from recunlearn.fetch import DownloadError, fetch, tofu_path


def make_zip(path, member="ml-100k/u.data", rows=None):
    rows = rows or [f"{u}\t{i}\t4\t88125{u}{i}" for u in range(1, 9) for i in range(1, 12) if (u + i) % 3]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, "\n".join(rows) + "\n")
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


SPLIT = {"train": 0.8, "valid": 0.1, "test": 0.1, "seed": 1, "min_user_interactions": 3}


def test_wrong_md5_fails_cleanly_with_both_hashes(tmp_path):
    src = tmp_path / "src" / "ml-100k.zip"
    src.parent.mkdir()
    md5, _ = make_zip(src)
    dest = tmp_path / "resources" / "ml-100k.zip"
    wrong = "0" * 32
    with pytest.raises(DownloadError) as err:
        fetch({"url": src.as_uri(), "md5": wrong}, dest)
    assert f"expected {wrong}, got {md5}" in str(err.value)
    assert list(dest.parent.iterdir()) == []  # neither the file nor a .part


def test_right_md5_downloads_and_preprocesses(tmp_path):
    src = tmp_path / "ml-100k.zip"
    md5, sha = make_zip(src)
    dest = tmp_path / "resources" / "ml-100k.zip"
    got = fetch({"url": src.as_uri(), "md5": md5, "sha256": sha, "member": "ml-100k/u.data"}, dest)
    assert got == {"md5": md5, "sha256": sha} and dest.read_bytes() == src.read_bytes()
    stats = prepare("movielens_tab", [(str(dest), "ml-100k/u.data")], tmp_path / "data", SPLIT, "toy")
    assert stats["users"] == 8 and stats["interactions"] == sum(1 for u in range(1, 9) for i in range(1, 12) if (u + i) % 3)


def test_local_path_source(tmp_path):
    src = tmp_path / "x.csv"
    src.write_text("user,item\n1,2\n")
    dest = tmp_path / "out" / "x.csv"
    fetch({"url": str(src)}, dest)
    assert dest.read_text() == "user,item\n1,2\n"


def test_truncated_zip_fails_with_a_clear_message(tmp_path):
    src = tmp_path / "ml-100k.zip"
    make_zip(src)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])
    dest = tmp_path / "resources" / "ml-100k.zip"
    with pytest.raises(DownloadError, match="not a valid zip archive \\(truncated or corrupt download\\?\\)"):
        fetch({"url": src.as_uri()}, dest)
    assert list(dest.parent.iterdir()) == []


def test_zip_without_the_member_fails(tmp_path):
    src = tmp_path / "a.zip"
    make_zip(src, member="other/u.data")
    with pytest.raises(DownloadError, match="has no member 'ml-100k/u.data'"):
        fetch({"url": src.as_uri(), "member": "ml-100k/u.data"}, tmp_path / "r" / "a.zip")


def test_missing_source_and_bad_scheme(tmp_path):
    with pytest.raises(DownloadError, match="no such file"):
        fetch({"url": (tmp_path / "nope.txt").as_uri()}, tmp_path / "r" / "nope.txt")
    with pytest.raises(DownloadError, match="unsupported URL scheme 'ftp'"):
        fetch({"url": "ftp://example.org/x.txt"}, tmp_path / "r" / "x.txt")


def test_trust_on_first_use(tmp_path, http_server):
    http_server.routes["/train.txt"] = [b"0 1 2\n", b"0 1 2\n", b"0 1 3\n"]  # the third download changed
    url = http_server.url("/train.txt")
    dest = tmp_path / "resources" / "train.txt"
    first = fetch({"url": url}, dest)
    record = tofu_path(dest)
    assert record.read_text().split()[0] == first["sha256"]
    dest.unlink()
    fetch({"url": url}, dest)  # same content: verified against the record
    dest.unlink()
    with pytest.raises(DownloadError, match=f"expected {first['sha256']} \\(recorded on first download"):
        fetch({"url": url}, dest, retries=3, backoff=0)
    assert not dest.exists() and http_server.hits["/train.txt"] == 3  # a mismatch is not retried


def test_a_changed_local_source_is_copied_again(tmp_path):
    """A local source is the user's own file: an edit is what they want (no checksum to hold it to)."""
    src = tmp_path / "data" / "train.txt"
    src.parent.mkdir()
    src.write_text("0 1 2\n")
    dest = tmp_path / "resources" / "train.txt"
    first = fetch({"url": str(src)}, dest)
    src.write_text("0 1 3\n")
    second = fetch({"url": str(src)}, dest)
    assert second != first and dest.read_text() == "0 1 3\n"
    assert tofu_path(dest).read_text().split()[0] == second["sha256"]
