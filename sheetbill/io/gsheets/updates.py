"""The ``spreadsheets:batchUpdate`` requests that publish staged outputs: replacing an existing
sheet's values in place, formatting, warning-only protection, charts and renaming."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...sheets import Column, OutputSheet
from .session import PROTECTION_NOTE, StagedOutput

#: Number formats by Column.kind, as the xlsx writer has them ("decimal" and "text" stay General;
#: a percent column holds the percent number itself, 80 shows as 80.00%).
_NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "int": {"type": "NUMBER", "pattern": "0"},
    "money": {"type": "NUMBER", "pattern": "#,##0.00"},
    "percent": {"type": "NUMBER", "pattern": '0.00"%"'},
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
}


def format_requests(sheet_id: int, plan: StagedOutput) -> list[dict[str, Any]]:
    """Bold header, number formats by column kind and column widths of one output sheet."""
    out: list[dict[str, Any]] = [
        {
            "repeatCell": {
                "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        }
    ]
    for index, column in enumerate(plan.output.columns):
        span = {"sheetId": sheet_id, "startColumnIndex": index, "endColumnIndex": index + 1}
        if column.kind in _NUMBER_FORMATS:
            out.append(
                {
                    "repeatCell": {
                        "range": {**span, "startRowIndex": 1, "endRowIndex": plan.rows},
                        "cell": {"userEnteredFormat": {"numberFormat": _NUMBER_FORMATS[column.kind]}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
        if column.width:
            out.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": index,
                            "endIndex": index + 1,
                        },
                        "properties": {"pixelSize": _pixels(column)},
                        "fields": "pixelSize",
                    }
                }
            )
    return out


def _pixels(column: Column) -> int:
    """An Excel column width (characters) in pixels."""
    return round((column.width or 0) * 7 + 10)


def chart_request(sheet_id: int, output: OutputSheet) -> dict[str, Any]:
    """A clustered bar chart over whole columns (so it follows the sheet as it grows)."""
    chart = output.chart
    assert chart is not None

    def column(index: int) -> dict[str, Any]:
        return {
            "sourceRange": {
                "sources": [
                    {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "startColumnIndex": index,
                        "endColumnIndex": index + 1,
                    }
                ]
            }
        }

    letters = chart.anchor.rstrip("0123456789")
    anchor_row = int(chart.anchor[len(letters) :] or 1) - 1
    anchor_col = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(letters.upper()))) - 1
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": chart.title,
                    "basicChart": {
                        "chartType": "BAR",
                        "legendPosition": "BOTTOM_LEGEND",
                        "headerCount": 1,
                        "domains": [{"domain": column(chart.category_column)}],
                        "series": [
                            {"series": column(i), "targetAxis": "BOTTOM_AXIS"} for i in chart.value_columns
                        ],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {"sheetId": sheet_id, "rowIndex": anchor_row, "columnIndex": anchor_col}
                    }
                },
            }
        }
    }


def commit_requests(planned: Sequence[StagedOutput]) -> list[dict[str, Any]]:
    """The one request list that publishes every staged output.

    An existing output sheet is resized exactly and the staged values are pasted over it, so it
    keeps its id and whatever points at it; a new output sheet is its staging sheet, renamed and
    shown. Each gets its formatting and, once, the warning-only protection and its chart.
    """
    requests_: list[dict[str, Any]] = []
    for plan in planned:
        old = plan.old
        target = old.sheet_id if old else plan.staging_id
        if old is not None:
            requests_ += _replace_requests(plan, old.sheet_id)
        requests_ += format_requests(target, plan)
        if old is None or not old.owned:
            requests_.append(_protect_request(target))
        if plan.output.chart is not None and (old is None or not old.has_chart):
            requests_.append(chart_request(target, plan.output))
    # Renaming comes last: the new sheets then show up at the end, in output order.
    requests_ += [_rename_request(plan) for plan in planned if plan.old is None]
    return requests_


def _replace_requests(plan: StagedOutput, sheet_id: int) -> list[dict[str, Any]]:
    """Resize the existing sheet ``sheet_id`` exactly, paste the staged values over it and delete
    the staging sheet."""
    fields = ("rowCount", "columnCount", "frozenRowCount")
    grid = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": plan.rows, "startColumnIndex": 0,
            "endColumnIndex": plan.columns}
    return [
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": sheet_id,
                    "gridProperties": {"rowCount": plan.rows, "columnCount": plan.columns, "frozenRowCount": 1},
                },
                "fields": ",".join(f"gridProperties.{name}" for name in fields),
            }
        },
        {
            "copyPaste": {
                "source": {**grid, "sheetId": plan.staging_id},
                "destination": {**grid, "sheetId": sheet_id},
                "pasteType": "PASTE_VALUES",
            }
        },
        {"deleteSheet": {"sheetId": plan.staging_id}},
    ]


def _protect_request(sheet_id: int) -> dict[str, Any]:
    """The warning-only protection that also marks a sheet as sheetbill's own."""
    return {
        "addProtectedRange": {
            "protectedRange": {"range": {"sheetId": sheet_id}, "description": PROTECTION_NOTE, "warningOnly": True}
        }
    }


def _rename_request(plan: StagedOutput) -> dict[str, Any]:
    """Turn a staging sheet into the new output sheet: its name, shown."""
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": plan.staging_id, "title": plan.output.name, "hidden": False},
            "fields": "title,hidden",
        }
    }
