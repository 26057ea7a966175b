"""Evaluating a saved run: accuracy, per-class scores, the confusion matrix, regression scores, new files."""
import pytest
from sklearn.metrics import f1_score

import neuralab
from neuralab.cli import main
from neuralab.data import load_data
from neuralab.errors import DataError
from neuralab.runs.evaluation import evaluate_run
from neuralab.training.evaluate import scores_of


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    spec = neuralab.load_spec({"name": "iris", "data": {"dataset": "iris"}, "model": {"hidden": [8]},
                               "train": {"epochs": 10, "learning_rate": 0.01}})
    return neuralab.train(spec, out_dir=tmp_path_factory.mktemp("runs"))


def test_classification_scores_match_an_independent_computation(iris_run):
    import torch

    result = evaluate_run(iris_run)
    bundle = load_data(iris_run.spec.data, seed=iris_run.spec.seed)
    predicted = iris_run.head.predict(scores_of(iris_run.model, torch.from_numpy(bundle.x_test))).numpy()
    assert result["accuracy"] == pytest.approx(float((predicted == bundle.y_test).mean()))
    assert result["accuracy"] == pytest.approx(1 - result["test_error"])
    f1 = f1_score(bundle.y_test, predicted, average=None, labels=[0, 1, 2], zero_division=0)
    classes = result["classes"]
    assert [result["per_class"][k]["f1"] for k in classes] == pytest.approx(list(f1))
    matrix = result["confusion_matrix"]
    assert sum(map(sum, matrix)) == result["rows"] == 30
    assert [sum(row) for row in matrix] == [result["per_class"][k]["support"] for k in classes]
    assert (iris_run.dir / "confusion_matrix.png").stat().st_size > 1000


def test_regression_reports_rmse_and_r2_in_the_targets_units(tmp_path):
    run = neuralab.train({"data": {"dataset": "diabetes"}, "model": {"hidden": [8]}, "train": {"epochs": 3}},
                         out_dir=tmp_path)
    result = neuralab.evaluate(run.dir)
    assert result["test_rmse"] == pytest.approx(run.summary["test_rmse"])
    assert result["test_r2"] == pytest.approx(run.summary["test_r2"])
    assert "per_class" not in result and not (run.dir / "confusion_matrix.png").exists()


def test_a_new_labelled_file_is_scored(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{(i * 7) % 5},{'hi' if i % 2 else 'lo'}\n" for i in range(60)))
    run = neuralab.train({"data": {"dataset": "csv", "path": str(path)}, "model": {"hidden": [8]},
                          "train": {"epochs": 3}}, out_dir=tmp_path / "runs")
    new = tmp_path / "new.csv"
    new.write_text("b,a,label\n1,3,hi\n0,10,lo\n2,11,hi\n")
    result = neuralab.evaluate(run.dir, data=new)
    assert result["split"] == str(new) and result["rows"] == 3 and "data_error" in result
    assert result["per_class"]["hi"]["support"] == 2 and (run.dir / "confusion_matrix-new.png").is_file()
    new.write_text("a,b,label\n1,3,maybe\n")
    with pytest.raises(DataError, match="label\\(s\\) maybe are not among the run's classes hi, lo"):
        neuralab.evaluate(run.dir, data=new)


def test_cli_evaluate_prints_the_class_table_and_confusion_matrix(iris_run, capsys):
    assert main(["evaluate", str(iris_run.dir)]) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "precision" in printed and "confusion matrix" in printed


def test_a_language_model_is_scored_on_its_own_test_block(tiny_gpt_run):
    """Text runs keep a vocabulary, not a table's preprocessing: evaluate regenerates the test
    block with it and scores the loss the run recorded; --data (rows of a table) is refused."""
    result = evaluate_run(tiny_gpt_run, picture=False)
    assert result["test_loss"] == pytest.approx(tiny_gpt_run.summary["test_loss"], rel=1e-5)
    assert "per_class" not in result  # not a confusion matrix over every next character
    with pytest.raises(neuralab.RunError, match="learned sequences"):
        evaluate_run(tiny_gpt_run, data="new.csv")


def test_a_sequence_regression_is_scored_in_its_targets_units(tmp_path):
    run = neuralab.train({"data": {"dataset": "adding", "n_samples": 120, "sequence_length": 8},
                          "model": {"kind": "gru", "recurrent": {"hidden_size": 4}}, "train": {"epochs": 1}},
                         out_dir=tmp_path)
    result = evaluate_run(run)
    assert result["test_loss"] == pytest.approx(run.summary["test_loss"], rel=1e-5) and "test_rmse" in result
