"""A labelled history as CSV: one row per customer episode (README, "AI profiling").

Columns (header names case-insensitive, surrounding spaces ignored, any order, extra columns
ignored; UTF-8 with or without BOM; `,` or `;` as delimiter):

    customer_ref                  any text, not empty
    age                           whole number of years, 15 to 99 (audit only)
    sex                           f | m | d (audit only)
    citizenship                   de | eu | non_eu (audit only)
    disability                    0 | 1, severe disability (audit only)
    <the model inputs>            profiling.model.features.FEATURES; target_kldb may be empty
    outcome                       0 | 1: integrated into work subject to social insurance in 12 months

Numbers may use a decimal comma ("7,4"). Every problem is reported with the file's line number
(the header is line 1) and the column; reading stops after MAX_ERRORS problems.

The fingerprint is the SHA-256 over the normalised rows (sorted digests of each row's canonical
form), so the same episodes give the same fingerprint whatever the column order, the delimiter,
the extra columns or the order of the rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jobcenter.exceptions import ApplicationError
from profiling.model.features import (
    CITIZENSHIP_VALUES,
    FEATURE_BY_NAME,
    FEATURE_NAMES,
    FEATURES,
    SEX_VALUES,
    age_band,
)

MAX_ERRORS = 50
MIN_AGE, MAX_AGE = 15, 99
REF = "customer_ref"
AUDIT_COLUMNS = ("age", "sex", "citizenship", "disability")
OUTCOME = "outcome"
ORACLE = "true_probability"  # written by the synthetic exports; ignored when reading


class CsvDataError(ApplicationError):
    """A labelled file that cannot be used; `extra["errors"]` lists the line-numbered problems."""


@dataclass
class LabelledData:
    """Customer episodes with their outcome: model inputs, audited attributes, references.

    `rows` hold the model inputs only (CSV names; None = not known). `audit` holds the attributes
    kept for the fairness audit (sex, citizenship, disability as "0"/"1", age_band), never given to
    the model. `oracle` holds the true probabilities where a synthetic generator knows them.
    """

    rows: list[dict]
    outcomes: np.ndarray
    audit: dict[str, list]
    refs: list[str]
    fingerprint: str
    ages: list[int | None] = field(default_factory=list)
    oracle: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def base_rate(self) -> float:
        return float(np.mean(self.outcomes)) if len(self.outcomes) else 0.0

    def subset(self, index: Sequence[int] | np.ndarray) -> LabelledData:
        """The episodes at `index`, in that order (the fingerprint is that of the subset)."""
        index = [int(i) for i in index]
        rows = [self.rows[i] for i in index]
        outcomes = self.outcomes[index]
        refs = [self.refs[i] for i in index]
        ages = [self.ages[i] for i in index] if self.ages else []
        audit = {name: [values[i] for i in index] for name, values in self.audit.items()}
        return LabelledData(
            rows=rows,
            outcomes=outcomes,
            audit=audit,
            refs=refs,
            fingerprint=fingerprint(rows=rows, outcomes=outcomes, refs=refs, audit=audit),
            ages=ages,
            oracle=None if self.oracle is None else self.oracle[index],
        )


# --- Normalisation and fingerprint ----------------------------------------------------------------


def _canonical(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | np.integer | np.floating):
        return format(float(value), ".10g")
    return str(value)


def fingerprint(
    *, rows: list[dict], outcomes: Iterable[int], refs: list[str], audit: dict[str, list]
) -> str:
    """SHA-256 over the normalised episodes: independent of column and row order."""
    names = sorted(FEATURE_NAMES)
    audit_names = sorted(audit)
    digests = []
    for i, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
        parts = [refs[i], str(int(outcome))]
        parts += [f"{name}={_canonical(audit[name][i])}" for name in audit_names]
        parts += [f"{name}={_canonical(row.get(name))}" for name in names if name in row]
        digests.append(hashlib.sha256("\x1f".join(parts).encode()).digest())
    digests.sort()
    total = hashlib.sha256()
    for digest in digests:
        total.update(digest)
    return total.hexdigest()


def make_data(
    *,
    rows: list[dict],
    outcomes: Sequence[int] | np.ndarray,
    refs: list[str],
    ages: list[int | None],
    sex: list[str | None],
    citizenship: list[str | None],
    disability: list[int | None],
    oracle: np.ndarray | None = None,
) -> LabelledData:
    """A LabelledData from columns (the generators use it; reading a CSV ends in it too)."""
    audit = {
        "sex": list(sex),
        "citizenship": list(citizenship),
        "disability": [None if value is None else str(int(value)) for value in disability],
        "age_band": [age_band(age) for age in ages],
    }
    outcomes = np.asarray(outcomes, dtype=np.int8)
    return LabelledData(
        rows=rows,
        outcomes=outcomes,
        audit=audit,
        refs=list(refs),
        fingerprint=fingerprint(rows=rows, outcomes=outcomes, refs=refs, audit=audit),
        ages=list(ages),
        oracle=oracle,
    )


# --- Reading --------------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    @property
    def full(self) -> bool:
        return len(self.messages) >= MAX_ERRORS

    def add(self, line: int, column: str, problem: str) -> None:
        if not self.full:
            self.messages.append(
                _("line %(line)d, column %(column)s: %(problem)s")
                % {"line": line, "column": column, "problem": problem}
            )


def _one_of(value: str, allowed: Sequence[str]) -> str:
    return _("'%(value)s' is not one of %(allowed)s") % {
        "value": value,
        "allowed": ", ".join(allowed),
    }


def _choice(value: str, allowed: Sequence[str]) -> str | None:
    """The allowed value matching `value` (case-insensitive), or None."""
    lowered = value.lower()
    return next((option for option in allowed if option.lower() == lowered), None)


def _number(value: str) -> float | None:
    text = value.replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_feature(spec, value: str):
    """(parsed value, problem or None) for one model input; value is stripped and not empty."""
    if spec.kind == "ordinal":
        choice = _choice(value, spec.values)
        return (choice, None) if choice is not None else (None, _one_of(value, spec.values))
    if spec.kind == "binary":
        if value in ("0", "1"):
            return int(value), None
        return None, _one_of(value, ("0", "1"))
    if spec.kind == "kldb":
        if len(value) == 5 and value.isascii() and value.isdigit():
            return value, None
        return None, _("'%(value)s' is not a KldB 2010 code of five digits") % {"value": value}
    number = _number(value)
    if number is None:
        return None, _("'%(value)s' is not a number") % {"value": value}
    if (spec.minimum is not None and number < spec.minimum) or (
        spec.maximum is not None and number > spec.maximum
    ):
        return None, _("%(value)s is not between %(low)s and %(high)s") % {
            "value": value,
            "low": _canonical(spec.minimum),
            "high": _canonical(spec.maximum),
        }
    return number, None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CsvDataError(
            _("The file is not UTF-8 encoded (first problem in line %(line)d). Save it as UTF-8.")
            % {"line": line},
            extra={"errors": [_("line %(line)d: not UTF-8") % {"line": line}]},
        ) from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_labelled_csv(
    source: str | Path | bytes | io.IOBase,
    *,
    features: Sequence[str] = FEATURE_NAMES,
    require_outcome: bool = True,
) -> LabelledData:
    """Read and check a labelled CSV; raise CsvDataError listing what is wrong, line by line.

    `features` are the model inputs to read (a stored model's `features` when evaluating it);
    a file without one of them is refused with the names of the columns the model reads.
    """
    unknown = [name for name in features if name not in FEATURE_BY_NAME]
    if unknown:
        raise CsvDataError(
            _("The model reads columns this installation does not know: %(names)s.")
            % {"names": ", ".join(unknown)},
            extra={"errors": [], "unknown_columns": unknown},
        )
    if isinstance(source, str | Path):
        try:
            raw = Path(source).read_bytes()
        except OSError as error:
            raise CsvDataError(
                _("The file cannot be read: %(error)s") % {"error": error.strerror or error},
                extra={"errors": []},
            ) from None
    elif isinstance(source, bytes):
        raw = source
    else:
        content = source.read()
        raw = content.encode() if isinstance(content, str) else content
    text = _decode(raw)
    if not text.strip():
        raise CsvDataError(_("The file is empty."), extra={"errors": [_("The file is empty.")]})
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = [name.strip().lower() for name in next(reader)]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, index)

    specs = [FEATURE_BY_NAME[name] for name in features]
    required = [REF, *AUDIT_COLUMNS, *(spec.name for spec in specs if spec.required)]
    if require_outcome:
        required.append(OUTCOME)
    duplicates = sorted({name for name in header if name in required and header.count(name) > 1})
    if duplicates:
        message = _("Columns appear more than once: %(names)s.") % {"names": ", ".join(duplicates)}
        raise CsvDataError(message, extra={"errors": [message]})
    missing = [name for name in required if name not in positions]
    if missing:
        if all(name in FEATURE_BY_NAME for name in missing):
            message = _("The file lacks columns the model reads: %(names)s.") % {
                "names": ", ".join(missing)
            }
        else:
            message = _("The file lacks required columns: %(names)s.") % {
                "names": ", ".join(missing)
            }
        raise CsvDataError(message, extra={"errors": [message], "missing_columns": missing})

    errors = _Errors()
    parsed_records = []
    width = len(header)
    for record in reader:
        if errors.full:
            break
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(record) < width:
            record = record + [""] * (width - len(record))
        parsed = _parse_record(
            record,
            line=reader.line_num,
            positions=positions,
            specs=specs,
            require_outcome=require_outcome,
            errors=errors,
        )
        if parsed is not None:
            parsed_records.append(parsed)

    if errors.messages:
        shown = errors.messages
        if errors.full:
            message = _(
                "The file cannot be used: it has at least %(count)d errors (reading stopped "
                "there). The first: %(first)s"
            ) % {"count": len(shown), "first": shown[0]}
        else:
            message = ngettext(
                "The file cannot be used: %(count)d error. The first: %(first)s",
                "The file cannot be used: %(count)d errors. The first: %(first)s",
                len(shown),
            ) % {"count": len(shown), "first": shown[0]}
        raise CsvDataError(message, extra={"errors": shown})
    if not parsed_records:
        message = _("The file has a header but no data rows.")
        raise CsvDataError(message, extra={"errors": [message]})
    refs, ages, choices, rows = zip(*parsed_records, strict=True)
    return make_data(
        rows=list(rows),
        outcomes=[int(choice["outcome"]) if require_outcome else 0 for choice in choices],
        refs=list(refs),
        ages=list(ages),
        sex=[choice["sex"] for choice in choices],
        citizenship=[choice["citizenship"] for choice in choices],
        disability=[int(choice["disability"]) for choice in choices],
    )


def _parse_record(record, *, line, positions, specs, require_outcome, errors):
    """(ref, age, {sex, citizenship, disability, outcome}, row), or None after noting problems."""
    before = len(errors.messages)
    failed = False

    def cell(name: str) -> str:
        return record[positions[name]].strip() if name in positions else ""

    def problem(name: str, text: str) -> None:
        nonlocal failed
        failed = True
        errors.add(line, name, text)

    ref = cell(REF)
    if not ref:
        problem(REF, _("a value is required"))
    age = None
    value = cell("age")
    number = _number(value) if value else None
    if not value:
        problem("age", _("a value is required"))
    elif number is None or number != int(number) or not MIN_AGE <= number <= MAX_AGE:
        problem(
            "age",
            _("'%(value)s' is not a whole number between %(low)d and %(high)d")
            % {"value": value, "low": MIN_AGE, "high": MAX_AGE},
        )
    else:
        age = int(number)
    choices = {}
    checks = [("sex", SEX_VALUES), ("citizenship", CITIZENSHIP_VALUES), ("disability", ("0", "1"))]
    if require_outcome:
        checks.append((OUTCOME, ("0", "1")))
    for name, allowed in checks:
        value = cell(name)
        choice = _choice(value, allowed) if value else None
        if not value:
            problem(name, _("a value is required"))
        elif choice is None:
            problem(name, _one_of(value, allowed))
        choices[name] = choice

    row: dict = {}
    for spec in specs:
        value = cell(spec.name)
        if not value:
            if spec.required:
                problem(spec.name, _("a value is required"))
            row[spec.name] = None
            continue
        parsed, text = _parse_feature(spec, value)
        if text is not None:
            problem(spec.name, text)
        row[spec.name] = parsed
    if failed or len(errors.messages) != before:
        return None
    return ref, age, choices, row


# --- Writing --------------------------------------------------------------------------------------


def csv_columns(*, oracle: bool = False) -> list[str]:
    columns = [REF, *AUDIT_COLUMNS, *(feature.name for feature in FEATURES), OUTCOME]
    return [*columns, ORACLE] if oracle else columns


def write_csv(path: str | Path | io.TextIOBase, data: LabelledData, oracle=None) -> int:
    """Write `data` in the documented format (comma, UTF-8); with `oracle`, a true_probability
    column that readers ignore. Returns the number of rows written."""
    oracle_values = None if oracle is None else np.asarray(oracle, dtype=float)
    columns = csv_columns(oracle=oracle_values is not None)
    ages = data.ages or [None] * len(data)

    def write(handle) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        audit = data.audit
        for i, row in enumerate(data.rows):
            values = [
                data.refs[i],
                _canonical(ages[i]),
                audit["sex"][i] or "",
                audit["citizenship"][i] or "",
                audit["disability"][i] or "",
            ]
            values += [_canonical(row.get(feature.name)) for feature in FEATURES]
            values.append(str(int(data.outcomes[i])))
            if oracle_values is not None:
                values.append(format(float(oracle_values[i]), ".6f"))
            writer.writerow(values)

    if isinstance(path, str | Path):
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            write(handle)
    else:
        write(path)
    return len(data)
