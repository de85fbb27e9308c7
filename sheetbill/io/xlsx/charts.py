"""The drawing and chart parts of an output sheet's chart: a clustered column chart (``c:barChart``
with ``barDir="col"``) of some columns over a category column."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from ...sheets import BarChart
from .package import XML_DECLARATION
from .plan import PlannedSheet
from .workbook import (
    CHART_NS,
    DOC_REL_NS,
    DRAWING_NS,
    DRAWINGML_NS,
    column_letter,
    parse_cell_ref,
    quote_sheet_name,
)

#: The end of the chart part: the two axes (categories along the bottom), the legend and display options.
_AXES_AND_LEGEND = (
    '<c:axId val="50010001"/><c:axId val="50010002"/></c:barChart>'
    '<c:catAx><c:axId val="50010001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
    '<c:tickLblPos val="nextTo"/><c:crossAx val="50010002"/><c:crosses val="autoZero"/>'
    '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
    '<c:valAx><c:axId val="50010002"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
    '<c:numFmt formatCode="General" sourceLinked="1"/><c:tickLblPos val="nextTo"/>'
    '<c:crossAx val="50010001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    '</c:plotArea><c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend>'
    '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
)


def drawing_xml(chart: BarChart) -> bytes:
    """A drawing part holding one chart (relationship rId1), anchored at ``chart.anchor``."""
    row, col = parse_cell_ref(chart.anchor)
    return (
        f'{XML_DECLARATION}<xdr:wsDr xmlns:xdr="{DRAWING_NS}" xmlns:a="{DRAWINGML_NS}">'
        f"<xdr:oneCellAnchor><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        '<xdr:ext cx="5400000" cy="3240000"/>'
        '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{CHART_NS}">'
        f'<c:chart xmlns:c="{CHART_NS}" xmlns:r="{DOC_REL_NS}" r:id="rId1"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
    ).encode()


def _chart_label(value: object) -> str:
    """A category cell as the chart shows it."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _chart_number(value: object) -> str | None:
    """A value cell as a chart number; None for what is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return str(value) if math.isfinite(value) else None


def chart_xml(job: PlannedSheet) -> bytes:
    """A clustered column chart of the job's value columns over its category column.

    The series reference the sheet's cells and carry cached values, so readers that do not
    recalculate charts (and Excel before its first recalculation) show the data too.
    """
    chart = job.chart
    assert chart is not None
    sheet = quote_sheet_name(job.name)
    last_row = max(2, len(job.rows) + 1)

    def cells(index: int) -> str:
        letter = column_letter(index + 1)
        return escape(f"{sheet}!${letter}$2:${letter}${last_row}")

    def cell(row: Sequence[object], index: int) -> object:
        return row[index] if index < len(row) else None

    labels = "".join(
        f'<c:pt idx="{i}"><c:v>{escape(_chart_label(cell(row, chart.category_column)))}</c:v></c:pt>'
        for i, row in enumerate(job.rows)
    )
    categories = (
        f"<c:cat><c:strRef><c:f>{cells(chart.category_column)}</c:f><c:strCache>"
        f'<c:ptCount val="{len(job.rows)}"/>{labels}</c:strCache></c:strRef></c:cat>'
    )
    series = []
    for order, index in enumerate(chart.value_columns):
        letter = column_letter(index + 1)
        points = "".join(
            f'<c:pt idx="{i}"><c:v>{number}</c:v></c:pt>'
            for i, row in enumerate(job.rows)
            if (number := _chart_number(cell(row, index))) is not None
        )
        series.append(
            f'<c:ser><c:idx val="{order}"/><c:order val="{order}"/>'
            f"<c:tx><c:strRef><c:f>{escape(f'{sheet}!${letter}$1')}</c:f><c:strCache>"
            f'<c:ptCount val="1"/><c:pt idx="0"><c:v>{escape(job.columns[index].header)}</c:v></c:pt>'
            f'</c:strCache></c:strRef></c:tx><c:invertIfNegative val="0"/>{categories}'
            f"<c:val><c:numRef><c:f>{cells(index)}</c:f><c:numCache><c:formatCode>General</c:formatCode>"
            f'<c:ptCount val="{len(job.rows)}"/>{points}</c:numCache></c:numRef></c:val></c:ser>'
        )
    return (
        f'{XML_DECLARATION}<c:chartSpace xmlns:c="{CHART_NS}" xmlns:a="{DRAWINGML_NS}" '
        f'xmlns:r="{DOC_REL_NS}">'
        '<c:roundedCorners val="0"/><c:chart>'
        f"<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>{escape(chart.title)}</a:t></a:r>"
        '</a:p></c:rich></c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
        '<c:plotArea><c:layout/><c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        f'<c:varyColors val="0"/>{"".join(series)}<c:gapWidth val="150"/>'
        f"{_AXES_AND_LEGEND}"
    ).encode()
