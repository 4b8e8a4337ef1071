"""Every input format, and a clear file:line error for a malformed line."""

import zipfile

import pytest

from recunlearn.readers import DataFormatError, read_raw


def write(path, text):
    path.write_text(text)
    return str(path)


def test_movielens_dat(tmp_path):
    p = write(tmp_path / "ratings.dat", "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n")
    u, i = read_raw("movielens_dat", [(p, None)])
    assert u.tolist() == ["1", "1", "2"] and i.tolist() == ["10", "20", "10"]  # ids are labels


def test_movielens_dat_inside_zip(tmp_path):
    z = tmp_path / "ml.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml/ratings.dat", "3::4::5::1\n")
    u, i = read_raw("movielens_dat", [(str(z), "ml/ratings.dat")])
    assert u.tolist() == ["3"] and i.tolist() == ["4"]
    with pytest.raises(DataFormatError, match="no member 'ml/other.dat'"):
        read_raw("movielens_dat", [(str(z), "ml/other.dat")])


def test_movielens_tab(tmp_path):
    p = write(tmp_path / "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    u, i = read_raw("movielens_tab", [(p, None)])
    assert u.tolist() == ["196", "186"] and i.tolist() == ["242", "302"]


@pytest.mark.parametrize(
    "text,line,what",
    [
        ("1::10::5::1\n1::x::3::2\n", 2, "field 2 should be an integer, got 'x'"),
        ("1::10::5::1\n2::20::5\n", 2, "expected 4 fields separated by '::', found 3"),
        ("1::10::5::1\n2::20::5::3::9\n", 2, "expected 4 fields separated by '::', found 5"),
        ("1::10::5::1\n\n3::1.5::4::1\n", 3, "field 2 should be an integer, got '1.5'"),
    ],
)
def test_movielens_malformed_line_names_file_and_line(tmp_path, text, line, what):
    p = write(tmp_path / "ratings.dat", text)
    with pytest.raises(DataFormatError) as err:
        read_raw("movielens_dat", [(p, None)])
    assert f"{p}:{line}: {what}" in str(err.value)


def test_lightgcn_files_are_merged(tmp_path):
    a = write(tmp_path / "train.txt", "0 1 2 3\n1 2\n")
    b = write(tmp_path / "test.txt", "0 4\n1 5 6\n")
    u, i = read_raw("lightgcn", [(a, None), (b, None)])
    assert sorted(zip(u.tolist(), i.tolist())) == [("0", "1"), ("0", "2"), ("0", "3"), ("0", "4"), ("1", "2"), ("1", "5"),
                                                   ("1", "6")]


def test_lightgcn_malformed_line(tmp_path):
    p = write(tmp_path / "train.txt", "0 1 2\n1 2 b3\n")
    with pytest.raises(DataFormatError, match=rf"{p}:2: expected integer ids .*'1 2 b3'"):
        read_raw("lightgcn", [(p, None)])


def test_csv_named_columns_and_string_ids(tmp_path):
    p = write(tmp_path / "x.csv", "uid,rating,iid\nalice,5,pear\nbob,4,fig\n")
    u, i = read_raw("csv", [(p, None)], {"sep": ",", "header": True, "user_col": "uid", "item_col": "iid"})
    assert u.tolist() == ["alice", "bob"] and i.tolist() == ["pear", "fig"]


def test_tsv_without_header_by_index(tmp_path):
    p = write(tmp_path / "x.tsv", "7\t1\n8\t2\n")
    u, i = read_raw("csv", [(p, None)], {"sep": "\\t", "header": False, "user_col": 0, "item_col": 1})
    assert u.tolist() == ["7", "8"] and i.tolist() == ["1", "2"]


def test_csv_errors(tmp_path):
    p = write(tmp_path / "x.csv", "user,item\n1,2\n3,4,5\n")
    with pytest.raises(DataFormatError, match=rf"{p}:3: wrong number of fields: '3,4,5'"):
        read_raw("csv", [(p, None)], {})
    q = write(tmp_path / "y.csv", "user,item\n1,2\n,4\n")
    with pytest.raises(DataFormatError, match=rf"{q}:3: empty user or item id: ',4'"):
        read_raw("csv", [(q, None)], {})
    with pytest.raises(DataFormatError, match="no column 'uid' for user_col"):
        read_raw("csv", [(q, None)], {"user_col": "uid"})
