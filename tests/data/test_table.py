"""Reading tables: pyarrow in batches, numbers straight into float32, text as text, nothing evaluated."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neuralab.data import table
from neuralab.data.table import numeric_column, parses_as_numbers, read_table
from neuralab.errors import DataError


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_numbers_are_float32_text_is_text_and_empty_cells_are_missing(tmp_path):
    columns = read_table(write(tmp_path, "a,b,c,d\n1,x,true,0.5\n2,,False,NA\n3,y,true,\n"))
    assert columns["a"].dtype == np.float32 and columns["a"].tolist() == [1.0, 2.0, 3.0]
    assert columns["b"].tolist() == ["x", None, "y"]
    assert columns["c"].tolist() == ["true", "False", "true"]  # true/false read as written, never as numbers
    assert columns["d"].dtype == np.float32 and np.isnan(columns["d"][1:]).all()


def test_float64_only_where_float32_would_change_a_value_that_matters(tmp_path):
    columns = read_table(write(tmp_path, "id,big,x\n16777217,1e300,0.1\n2,1,0.2\n"))
    assert columns["id"].dtype == np.float64 and columns["id"][0] == 16777217  # 2^24 + 1: exact
    assert columns["big"].dtype == np.float64 and columns["big"][0] == 1e300  # the checks name it
    assert columns["x"].dtype == np.float32


def test_digit_grouping_is_text_not_a_number(tmp_path):
    columns = read_table(write(tmp_path, "a,b\n1,2\n1_000,3\n"))
    assert columns["a"].dtype == object and not parses_as_numbers(columns["a"])
    with pytest.raises(DataError, match=r"column 'a': is not numeric — row 2 holds '1_000'"):
        numeric_column("a", columns["a"])
    assert numeric_column("b", np.array([" 2", "1e3", "nan", "NA"], dtype=object))[:2].tolist() == [2.0, 1000.0]


@pytest.mark.parametrize("late, kind", [("2.5", np.float32), ("cat", object)], ids=["fraction", "text"])
def test_a_cell_that_breaks_a_later_block_rereads_the_column(tmp_path, monkeypatch, late, kind):
    monkeypatch.setattr(table, "BLOCK_BYTES", 64)  # one block of a few rows: the type is guessed from the first
    rows = "".join(f"{i},{i % 3}\n" for i in range(200))
    columns = read_table(write(tmp_path, f"a,b\n{rows}{late},1\n"))
    assert columns["a"].dtype == kind and len(columns["a"]) == 201 and columns["b"].dtype == np.float32
    if kind is object:
        with pytest.raises(DataError, match="row 201 holds 'cat'"):
            numeric_column("a", columns["a"])
    else:
        assert columns["a"][-1] == 2.5


def test_ragged_rows_name_their_lines_and_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, "\na,b,c\n1,2,3\n\n4,5\n6,7,8,9\n")
    with pytest.raises(DataError, match=r"2 rows do not have 3 cells like the header \(line 5, 6\)"):
        read_table(path)
    assert read_table(write(tmp_path, "\na,b\n1,2\n\n3,4\n", "ok.csv"))["b"].tolist() == [2.0, 4.0]


def test_a_byte_order_mark_and_padded_names(tmp_path):
    columns = read_table(write(tmp_path, "\ufeff a , b\n1,2\n"))
    assert list(columns) == ["a", "b"]


def test_text_that_is_not_utf8_after_the_header(tmp_path):
    path = write(tmp_path, b"a,b\n1,caf\xe9\n")
    with pytest.raises(DataError, match="it is not UTF-8 text"):
        read_table(path)


def test_parquet_numbers_become_float32_and_booleans_stay(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"i": pa.array([1, 2], pa.int64()), "f": [0.5, None], "flag": [True, False],
                             "s": ["x", None]}), path)
    columns = read_table(path)
    assert columns["i"].dtype == np.float32 and columns["f"].dtype == np.float32 and np.isnan(columns["f"][1])
    assert columns["flag"].dtype == bool and columns["s"].tolist() == ["x", None]


def test_duplicate_names_among_100000_columns_are_found_at_once(tmp_path, time_limit):
    """Issue 18: the header check was quadratic — 100,000 columns took 103–148 s before any message."""
    names = [f"c{i % 50_000}" for i in range(100_000)]
    path = write(tmp_path, ",".join(names) + "\n" + ",".join("1" * 1 for _ in names) + "\n")
    with time_limit(30), pytest.raises(DataError, match=r"duplicate column names: c0, c1, c10, .* and 49980 more"):
        read_table(path)


def test_a_wide_table_reads_in_a_few_calls_per_batch(tmp_path, time_limit):
    names = [f"c{i}" for i in range(20_000)]
    rows = "".join(",".join(str((i + j) % 7) for j in range(len(names))) + "\n" for i in range(5))
    with time_limit(60):
        columns = read_table(write(tmp_path, ",".join(names) + "\n" + rows))
    assert len(columns) == 20_000 and columns["c19999"].tolist() == [float((i + 19_999) % 7) for i in range(5)]
