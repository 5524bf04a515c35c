"""Reading a jobcenter's labelled history (CSV): the documented format, and clear refusals."""

import io

import pytest

from profiling.model.csvdata import (
    MAX_ERRORS,
    CsvDataError,
    csv_columns,
    read_labelled_csv,
    write_csv,
)
from profiling.model.features import FEATURE_NAMES
from profiling.model.history import independent_history

HEADER = ",".join(csv_columns())
GOOD = "K1,34,f,de,0,middle,apprenticeship,native,24,12,14,none,some,1,1,none,none,high,7.4,82102,1"
GOOD_2 = "K2,51,m,non_eu,1,lower,none,B1,0,40,48,high,none,0,0,some,high,low,11.2,,0"


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def _errors(source: bytes, **kwargs) -> list[str]:
    with pytest.raises(CsvDataError) as caught:
        read_labelled_csv(source, **kwargs)
    return caught.value.extra["errors"]


@pytest.fixture(autouse=True)
def _english(settings):
    from django.utils import translation

    with translation.override("en"):
        yield


def test_a_good_file_gives_inputs_outcomes_and_the_audit_apart():
    data = read_labelled_csv(_csv(GOOD, GOOD_2))
    assert len(data) == 2
    assert data.refs == ["K1", "K2"]
    assert data.outcomes.tolist() == [1, 0]
    first = data.rows[0]
    assert set(first) == set(FEATURE_NAMES)  # model inputs only
    assert first["german"] == "native"
    assert first["region_unemployment_rate"] == 7.4
    assert first["single_parent"] == 1
    assert first["target_kldb"] == "82102"
    # Sex, age, citizenship and disability are kept for the audit only.
    assert not {"sex", "age", "citizenship", "disability"} & set(first)
    assert data.audit["sex"] == ["f", "m"]
    assert data.audit["citizenship"] == ["de", "non_eu"]
    assert data.audit["disability"] == ["0", "1"]
    assert data.audit["age_band"] == ["25-34", "50-67"]


def test_an_empty_optional_value_is_not_known():
    data = read_labelled_csv(_csv(GOOD_2))
    assert data.rows[0]["target_kldb"] is None


def test_semicolons_bom_decimal_comma_header_case_column_order_and_extra_columns():
    plain = read_labelled_csv(_csv(GOOD, GOOD_2))
    columns = csv_columns()
    order = list(reversed(range(len(columns))))
    header = ";".join(f" {columns[i].upper()} " for i in order) + ";Bemerkung"

    def line(text: str) -> str:
        cells = text.split(",")
        cells = [cell.replace(".", ",") for cell in cells]  # decimal comma
        return ";".join(cells[i] for i in order) + ";irgendwas"

    excel = "\ufeff" + "\n".join([header, line(GOOD), line(GOOD_2)]) + "\n"
    data = read_labelled_csv(excel.encode("utf-8"))
    assert data.rows == plain.rows
    assert data.fingerprint == plain.fingerprint


def test_the_fingerprint_changes_with_the_data():
    one = read_labelled_csv(_csv(GOOD, GOOD_2))
    other = read_labelled_csv(_csv(GOOD, GOOD_2[:-1] + "1"))
    assert one.fingerprint != other.fingerprint


def test_missing_required_columns_are_named_in_one_error():
    header = HEADER.replace("customer_ref,", "").replace(",german", "")
    line = GOOD.replace("K1,", "").replace(",native", "")
    errors = _errors(_csv(line, header=header))
    assert len(errors) == 1
    assert "customer_ref" in errors[0]
    assert "german" in errors[0]


def test_bad_values_are_refused_with_line_and_column():
    bad = GOOD.replace("native", "B3")
    worse = GOOD_2.replace(",m,", ",x,").replace("11.2", "viel")
    errors = _errors(_csv(GOOD, bad, "", worse))
    assert errors[0] == (
        "line 3, column german: 'B3' is not one of A0, A1, A2, B1, B2, C1, C2, native"
    )
    # The blank line 4 is skipped; the next record is line 5.
    assert "line 5, column sex: 'x' is not one of f, m, d" in errors
    assert "line 5, column region_unemployment_rate: 'viel' is not a number" in errors


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((",34,", ",12,"), "column age: '12' is not a whole number between 15 and 99"),
        ((",24,12,", ",61,12,"), "column work_months_5y: 61 is not between 0 and 60"),
        (("82102", "8210"), "column target_kldb: '8210' is not a KldB 2010 code of five digits"),
        ((",high,7.4", ",,7.4"), "column motivation: a value is required"),
        ((",1,1,none", ",yes,1,none"), "column single_parent: 'yes' is not one of 0, 1"),
        (("82102,1", "82102,2"), "column outcome: '2' is not one of 0, 1"),
    ],
)
def test_each_kind_of_bad_value(change, message):
    errors = _errors(_csv(GOOD.replace(*change)))
    assert errors == [f"line 2, {message}"]


def test_reading_stops_after_fifty_errors():
    bad = GOOD.replace("native", "B3")
    errors = _errors(_csv(*[bad] * 200))
    assert len(errors) == MAX_ERRORS
    assert errors[-1].startswith(f"line {MAX_ERRORS + 1},")


def test_an_empty_file_and_a_file_without_rows_are_refused():
    assert _errors(b"") == ["The file is empty."]
    assert _errors(_csv()) == ["The file has a header but no data rows."]


def test_a_file_in_another_encoding_is_refused_with_the_line():
    content = _csv(GOOD, GOOD.replace("K1", "Müller")).decode().encode("latin-1")
    with pytest.raises(CsvDataError) as caught:
        read_labelled_csv(content)
    assert "line 3" in caught.value.message
    assert "UTF-8" in caught.value.message


def test_a_model_reading_columns_the_file_lacks_is_named():
    header = HEADER.replace(",debt", "")
    line = GOOD.replace(",none,none,high", ",none,high")
    with pytest.raises(CsvDataError) as caught:
        read_labelled_csv(_csv(line, header=header), features=("school", "debt"))
    assert caught.value.message == "The file lacks columns the model reads: debt."
    # A model that reads only what the file has can evaluate it.
    data = read_labelled_csv(_csv(line, header=header), features=("school", "german"))
    assert data.rows == [{"school": "middle", "german": "native"}]


def test_a_model_trained_on_unknown_columns_is_refused():
    with pytest.raises(CsvDataError) as caught:
        read_labelled_csv(_csv(GOOD), features=("school", "shoe_size"))
    assert "shoe_size" in caught.value.message


def test_the_outcome_is_needed_only_when_asked_for():
    header = HEADER.replace(",outcome", "")
    line = GOOD[: GOOD.rfind(",")]
    assert "outcome" in _errors(_csv(line, header=header))[0]
    data = read_labelled_csv(_csv(line, header=header), require_outcome=False)
    assert len(data) == 1


def test_a_synthetic_export_reads_back_to_the_same_data(tmp_path):
    data = independent_history(n=300, seed=5)
    path = tmp_path / "history.csv"
    write_csv(path, data, oracle=data.oracle)
    back = read_labelled_csv(path)
    assert back.rows == data.rows
    assert back.outcomes.tolist() == data.outcomes.tolist()
    assert back.audit == data.audit
    assert back.fingerprint == data.fingerprint  # the true_probability column is ignored
    text = path.read_text()
    assert text.splitlines()[0] == ",".join(csv_columns(oracle=True))


def test_write_csv_to_a_stream():
    data = independent_history(n=3, seed=1)
    buffer = io.StringIO()
    assert write_csv(buffer, data) == 3
    assert len(buffer.getvalue().splitlines()) == 4


def test_the_message_counts_the_errors_and_quotes_the_first():
    with pytest.raises(CsvDataError) as caught:
        read_labelled_csv(_csv(GOOD.replace("native", "B3")))
    assert caught.value.message == (
        "The file cannot be used: 1 error. The first: line 2, column german: 'B3' is not one of "
        "A0, A1, A2, B1, B2, C1, C2, native"
    )
