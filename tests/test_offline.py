"""MovieLens-100K from the recbole wheel: header dropped, sha256 checked, atomic, idempotent (no network)."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from recunlearn.data import file_sha256
from recunlearn.offline import MEMBER, SHA256, OfflineError, ensure_ml100k, extract_u_data, main

ROOT = Path(__file__).resolve().parents[1]
HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
ROWS = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
ROWS_SHA = hashlib.sha256(ROWS.encode()).hexdigest()


def fake_wheel(path: Path, member: str = MEMBER, text: str = HEADER + ROWS) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("recbole/__init__.py", "")
        zf.writestr(member, text)
    return path


def test_header_dropped_and_rest_kept_byte_for_byte(tmp_path):
    wheel = fake_wheel(tmp_path / "recbole-1.2.1-py3-none-any.whl")
    msg = ensure_ml100k(tmp_path / "data", wheel, sha256=ROWS_SHA)
    out = tmp_path / "data" / "u.data"
    assert out.read_text() == ROWS
    assert "wrote 3 lines" in msg and ROWS_SHA in msg
    assert sorted(p.name for p in out.parent.iterdir()) == ["u.data"]  # no temporary left


def test_sha256_mismatch_leaves_nothing_and_names_both_hashes(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl")
    dest = tmp_path / "data"
    wrong = "0" * 64
    with pytest.raises(OfflineError) as err:
        ensure_ml100k(dest, wheel, sha256=wrong)
    assert f"expected {wrong}, got {ROWS_SHA}" in str(err.value)
    assert "\n" not in str(err.value)
    assert list(dest.iterdir()) == []  # neither u.data nor a .part


def test_real_hash_refuses_other_content(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl")
    with pytest.raises(OfflineError, match=f"expected {SHA256}, got {ROWS_SHA}"):
        ensure_ml100k(tmp_path / "data", wheel)  # the default: the real u.data's sha256
    assert not (tmp_path / "data" / "u.data").exists()


def test_idempotent_when_present_and_right(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl")
    dest = tmp_path / "data"
    ensure_ml100k(dest, wheel, sha256=ROWS_SHA)
    wheel.unlink()  # a second run must not need the wheel at all
    mtime = (dest / "u.data").stat().st_mtime_ns
    msg = ensure_ml100k(dest, wheel, sha256=ROWS_SHA)
    assert "nothing to do" in msg
    assert (dest / "u.data").stat().st_mtime_ns == mtime


def test_a_wrong_file_in_place_is_refused_and_kept(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl")
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / "u.data").write_text("1\t2\t3\t4\n")
    with pytest.raises(OfflineError, match="exists but is not MovieLens-100K's u.data .* move it away"):
        ensure_ml100k(dest, wheel, sha256=ROWS_SHA)
    assert (dest / "u.data").read_text() == "1\t2\t3\t4\n"  # the user's file is untouched


def test_missing_member_is_a_clear_error(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl", member="recbole/dataset_example/ml-1m/ml-1m.inter")
    with pytest.raises(OfflineError, match=f"no member {MEMBER}"):
        extract_u_data(wheel, tmp_path / "data" / "u.data", ROWS_SHA)
    assert list((tmp_path / "data").iterdir()) == []


def test_not_a_zip_is_a_clear_error(tmp_path):
    wheel = tmp_path / "w.whl"
    wheel.write_bytes(b"<html>not a wheel</html>")
    with pytest.raises(OfflineError, match="not a valid wheel"):
        extract_u_data(wheel, tmp_path / "data" / "u.data", ROWS_SHA)
    assert list((tmp_path / "data").iterdir()) == []


def test_cli_reports_error_in_one_line(tmp_path, capsys):
    wheel = fake_wheel(tmp_path / "w.whl")
    assert main(["ml-100k", "--dest", str(tmp_path / "data"), "--wheel", str(wheel)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and SHA256 in err and ROWS_SHA in err


REAL = ROOT / "data" / "ml-100k" / "u.data"


@pytest.mark.skipif(not REAL.exists(), reason="data/ml-100k/u.data not fetched (python -m recunlearn.offline ml-100k)")
def test_fetched_u_data_is_movielens_100k():
    assert file_sha256(REAL) == SHA256
    with open(REAL, "rb") as fh:
        assert sum(1 for _ in fh) == 100_000


def test_ml100k_config_is_valid_and_points_at_this_file():
    from recunlearn.config import load_yaml, validate_config
    from recunlearn.offline import DEFAULT_DEST

    cfg = validate_config(load_yaml(ROOT / "config" / "ml100k.yaml"), ROOT / "workflow" / "schemas" / "config.schema.yaml")
    (source,) = cfg["registry"]["ml-100k-offline"]["sources"]
    assert cfg["datasets"] == ["ml-100k-offline"] and cfg["sharding"]["n_shards"] == 10
    assert source == {"url": str(DEFAULT_DEST / "u.data"), "sha256": SHA256}
