"""Predictions keep the user's columns as written and add the prediction and probabilities."""
import csv

import numpy as np
import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import DataError
from neuralab.runs.predicting import predict_table


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    """A run on a CSV with a text id and three-decimal numbers (as a user's export of wine)."""
    from sklearn.datasets import load_wine

    folder = tmp_path_factory.mktemp("wine")
    data = load_wine()
    columns = ["alcohol", "malic_acid", "ash"]
    lines = ["id," + ",".join(columns) + ",cultivar"]
    lines += [f"w{i}," + ",".join(f"{v:.2f}" for v in row[:3]) + f",{target}"
              for i, (row, target) in enumerate(zip(data.data, data.target))]
    (folder / "wine.csv").write_text("\n".join(lines) + "\n")
    spec = neuralab.load_spec(None, overrides={"data.dataset": "csv", "data.path": str(folder / "wine.csv"),
                                               "data.drop": ["id"], "model.hidden": [8], "train.epochs": 5})
    return neuralab.train(spec, out_dir=folder / "runs"), folder


def test_the_output_keeps_every_input_column_untouched(wine_run, tmp_path):
    run, folder = wine_run
    new = tmp_path / "new.csv"
    new.write_text("id,alcohol,malic_acid,ash,cultivar\nw0,14.23,1.71,2.43,0\nw1,13.2,1.78,2.14,0\n")
    table = predict_table(run, new, output=tmp_path / "out.csv")
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert rows[0]["alcohol"] == "14.23" and rows[1]["alcohol"] == "13.2"  # not 14.229999542236328
    assert rows[0]["id"] == "w0" and rows[0]["cultivar"] == "0"  # the label column stays
    assert list(rows[0])[-4:] == ["prediction", "probability_0", "probability_1", "probability_2"]
    assert table["prediction"][0] in (0, 1, 2)
    assert sum(float(rows[0][f"probability_{k}"]) for k in range(3)) == pytest.approx(1.0, abs=1e-5)


def test_a_missing_column_error_lists_what_the_run_needs(wine_run, tmp_path):
    run, _ = wine_run
    new = tmp_path / "new.csv"
    new.write_text("alcohol,ash\n14.23,2.43\n")
    with pytest.raises(DataError, match="lacks the column.*malic_acid; the run needs alcohol, malic_acid, ash"):
        predict_table(run, new)


def test_a_header_less_file_is_named_as_such(wine_run, tmp_path):
    run, _ = wine_run
    new = tmp_path / "new.csv"
    new.write_text("14.23,1.71,2.43\n13.2,1.78,2.14\n")
    with pytest.raises(DataError, match="no header row"):
        predict_table(run, new)


def test_an_array_of_numbers_predicts_too(wine_run):
    run, _ = wine_run
    table = predict_table(run, np.array([[14.23, 1.71, 2.43]]))
    assert table["alcohol"] == [14.23] and len(table["prediction"]) == 1


def test_cli_predict_writes_beside_the_run_by_default(wine_run, tmp_path, capsys, monkeypatch):
    run, _ = wine_run
    monkeypatch.chdir(tmp_path)
    new = tmp_path / "batch.csv"
    new.write_text("alcohol,malic_acid,ash\n14.23,1.71,2.43\n")
    assert main(["predict", str(run.dir), "--input", str(new)]) == 0
    assert (run.dir / "predictions-batch.csv").is_file() and not (tmp_path / "predictions.csv").exists()
    assert "1 predictions written" in capsys.readouterr().out
