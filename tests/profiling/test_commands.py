"""The commands: export synthetic history, train from a CSV or synthetic data, evaluate a file."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from profiling.model.csvdata import read_labelled_csv
from profiling.models import ModelActivation, ModelStatus, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def history_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "history.csv"
    call_command(
        "profiling_export_synthetic",
        "--rows=3000",
        "--seed=7",
        f"--out={path}",
        "--independent",
        "--truth",
        stdout=io.StringIO(),
    )
    return path


def test_export_writes_the_documented_format(tmp_path):
    path = tmp_path / "demo.csv"
    output = _run("profiling_export_synthetic", "--rows=200", "--seed=1", f"--out={path}")
    assert "Wrote 200 rows" in output
    data = read_labelled_csv(path)
    assert len(data) == 200
    header = path.read_text().splitlines()[0]
    assert header.startswith("customer_ref,age,sex,citizenship,disability,school,")
    assert header.endswith(",target_kldb,outcome")


def test_train_from_csv_stores_a_candidate(history_csv):
    output = _run("profiling_train", f"--csv={history_csv}")
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.CANDIDATE
    assert version.source == "csv"
    assert version.source_name == "history.csv"
    assert f"Model version {version.number} (candidate)" in output
    assert "AUC" in output
    assert "Not active" in output
    assert not ModelActivation.objects.exists()


def test_train_with_activate_switches_it_on(history_csv):
    output = _run("profiling_train", f"--csv={history_csv}", "--activate")
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.ACTIVE
    assert "(active)" in output
    activation = ModelActivation.objects.get()
    assert activation.by is None
    assert activation.reason == "profiling_train --activate"


def test_train_from_synthetic_history():
    output = _run("profiling_train", "--synthetic=1500", "--seed=2", "--independent")
    version = ModelVersion.objects.get()
    assert version.source == "synthetic"
    assert version.source_name == "independent generator, 1500 customers, seed 2"
    assert "oracle AUC" in output


def test_a_bad_csv_is_refused_with_its_line_messages(tmp_path, history_csv):
    lines = history_csv.read_text().splitlines()
    lines[4] = lines[4].replace(",native,", ",B3,", 1) if ",native," in lines[4] else lines[4]
    cells = lines[6].split(",")
    cells[2] = "x"  # sex
    lines[6] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError) as caught:
        call_command("profiling_train", f"--csv={bad}", stdout=io.StringIO())
    message = str(caught.value)
    assert "line 7, column sex: 'x' is not one of f, m, d" in message
    assert not ModelVersion.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("profiling_train", f"--csv={tmp_path / 'nope.csv'}", stdout=io.StringIO())


def test_too_little_data_is_refused(tmp_path):
    path = tmp_path / "small.csv"
    _run("profiling_export_synthetic", "--rows=100", f"--out={path}", "--independent")
    with pytest.raises(CommandError, match="Too little data"):
        call_command("profiling_train", f"--csv={path}", stdout=io.StringIO())


def test_evaluate_prints_json_with_the_figures(history_csv, tmp_path):
    _run("profiling_train", f"--csv={history_csv}", "--activate")
    other = tmp_path / "other.csv"
    _run("profiling_export_synthetic", "--rows=2500", "--seed=8", f"--out={other}", "--independent")
    result = json.loads(_run("profiling_evaluate", f"--csv={other}", "--json"))
    assert result["model_version"] == 1
    assert result["n"] == 2500
    for key in ("auc", "ece", "brier", "base_rate", "fpr_ratio_sex", "auc_gap"):
        assert key in result
    assert 0.6 < result["auc"] < 1
    female = result["by_group"]["sex"]["f"]
    for key in ("n", "auc", "ece", "brier", "below_threshold_share_of_positives"):
        assert key in female
    assert set(result["by_group"]) == {"sex", "citizenship", "disability", "age_band"}
    text = _run("profiling_evaluate", f"--csv={other}")
    assert "sex=f" in text


def test_evaluate_a_given_version_and_without_any(history_csv):
    with pytest.raises(CommandError, match="No model version is active"):
        call_command("profiling_evaluate", f"--csv={history_csv}", stdout=io.StringIO())
    _run("profiling_train", f"--csv={history_csv}")
    result = json.loads(_run("profiling_evaluate", f"--csv={history_csv}", "--json", "--version=1"))
    assert result["model_version"] == 1
    with pytest.raises(CommandError, match="no model version 5"):
        call_command("profiling_evaluate", f"--csv={history_csv}", "--version=5")


def test_evaluate_a_file_without_a_column_the_model_reads(history_csv, tmp_path):
    _run("profiling_train", f"--csv={history_csv}", "--activate")
    lines = [line.split(",") for line in history_csv.read_text().splitlines()]
    drop = lines[0].index("debt")
    path = tmp_path / "nodebt.csv"
    path.write_text("\n".join(",".join(c for i, c in enumerate(r) if i != drop) for r in lines))
    with pytest.raises(CommandError, match="lacks columns the model reads: debt"):
        call_command("profiling_evaluate", f"--csv={path}", "--json", stdout=io.StringIO())


def test_evaluate_a_corrupt_model_is_a_clear_error(history_csv):
    _run("profiling_train", f"--csv={history_csv}")
    ModelVersion.objects.update(artefact=b"garbage")
    with pytest.raises(CommandError, match="damaged"):
        call_command(
            "profiling_evaluate", f"--csv={history_csv}", "--version=1", stdout=io.StringIO()
        )
