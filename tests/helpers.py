"""Small builders for tests: raw sheets from lists, and reading outputs back as a front end would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from sheetbill.sheets import OutputSheet, RawSheet


def sheet(name: str, header: Sequence[str], *rows: Sequence[object]) -> RawSheet:
    """A raw sheet with ``header`` in row 1 and ``rows`` below it."""
    return RawSheet(name, [list(header), *[list(r) for r in rows]])


def book(*sheets: RawSheet) -> dict[str, RawSheet]:
    """Raw sheets by name."""
    return {s.name: s for s in sheets}


def as_read_back(output: OutputSheet) -> RawSheet:
    """``output`` as a file front end reads it back: amounts as floats, empty cells as None."""
    def cell(value: object) -> object:
        if isinstance(value, Decimal):
            number = float(value)
            return int(number) if number.is_integer() and value == value.to_integral_value() else number
        return value
    return RawSheet(output.name, [output.headers, *[[cell(v) for v in row] for row in output.rows]])


def with_outputs(inputs: Mapping[str, RawSheet], outputs: Iterable[OutputSheet]) -> dict[str, RawSheet]:
    """The workbook after a run: the inputs plus every output sheet read back."""
    merged = dict(inputs)
    for output in outputs:
        merged[output.name] = as_read_back(output)
    return merged


def rows_of(outputs: Iterable[OutputSheet], name: str) -> list[dict[str, object]]:
    """The rows of output sheet ``name`` as dicts by header."""
    for output in outputs:
        if output.name == name:
            return [dict(zip(output.headers, row, strict=False)) for row in output.rows]
    raise KeyError(name)
