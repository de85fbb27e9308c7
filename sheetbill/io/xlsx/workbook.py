"""The workbook part and the names every other module of the xlsx package shares.

:func:`load_workbook_parts` finds the workbook part of a package, checks that it is a SpreadsheetML
workbook sheetbill can handle (not Strict Open XML, not .xlsb) and lists its sheets with the parts
that hold them. The namespace, relationship and content-type constants and the A1 cell-reference
helpers live here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from .package import (
    CONTENT_TYPES_PART,
    ContentTypes,
    Relationship,
    WorkbookFormatError,
    ZipSource,
    namespace_prefix,
    parse_rels,
    rels_part_of,
    resolve_target,
    root_element,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWINGML_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
#: Namespace of sheetbill's own (ignorable) attributes.
SHEETBILL_NS = "urn:x-sheetbill:xlsx"

RT_OFFICE_DOCUMENT = f"{DOC_REL_NS}/officeDocument"
RT_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
RT_WORKSHEET = f"{DOC_REL_NS}/worksheet"
RT_STYLES = f"{DOC_REL_NS}/styles"
RT_CALC_CHAIN = f"{DOC_REL_NS}/calcChain"
RT_TABLE = f"{DOC_REL_NS}/table"
RT_DRAWING = f"{DOC_REL_NS}/drawing"
RT_CHART = f"{DOC_REL_NS}/chart"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSB_MAIN = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"

_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


@dataclass(frozen=True)
class SheetEntry:
    """A ``<sheet>`` of the workbook: its name, position, id and the part that holds it."""

    name: str
    position: int
    sheet_id: int
    part: str
    content_type: str | None


@dataclass
class WorkbookParts:
    """What the reader and the writer need from the workbook part and the package around it."""

    source: ZipSource
    part: str
    xml: str
    prefix: str
    rels: list[Relationship]
    sheets: list[SheetEntry]
    date1904: bool
    content_types: ContentTypes

    @property
    def worksheets(self) -> list[SheetEntry]:
        """The sheets that are worksheets (not chart, dialog or macro sheets)."""
        return [sheet for sheet in self.sheets if sheet.content_type == CT_WORKSHEET]


def decode_xml(data: bytes, part: str) -> str:
    """The text of an XML part; WorkbookFormatError when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkbookFormatError(f"{part} is not UTF-8 XML") from exc


def load_workbook_parts(source: ZipSource) -> WorkbookParts:
    """Find and parse the workbook part; raise WorkbookFormatError for anything not an .xlsx/.xlsm."""
    file_name = source.path.name
    try:
        content_types = ContentTypes.parse(source.read(CONTENT_TYPES_PART))
        package_rels = parse_rels(source.read("_rels/.rels"))
    except KeyError as exc:
        raise WorkbookFormatError(f"{file_name} is a zip file but not an Office document") from exc
    if any(rel.type == RT_STRICT_OFFICE_DOCUMENT for rel in package_rels):
        raise WorkbookFormatError(
            f"{file_name} is saved as 'Strict Open XML'; save it as a normal Excel workbook (.xlsx)"
        )
    targets = [rel.target for rel in package_rels if rel.type == RT_OFFICE_DOCUMENT and not rel.external]
    info = source.find(resolve_target("", targets[0])) if targets else None
    if info is None:
        raise WorkbookFormatError(f"{file_name} has no workbook part")
    part = info.filename
    if (content_types.type_of(part) or "").startswith(CT_XLSB_MAIN) or part.casefold().endswith(".bin"):
        raise WorkbookFormatError(f"{file_name} is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
    raw = source.read(part)
    xml = decode_xml(raw, part)
    prefix, local, root_tag = root_element(xml)
    if local != "workbook" or namespace_prefix(root_tag, MAIN_NS) != prefix:
        raise WorkbookFormatError(f"{file_name}: {part} is not a SpreadsheetML workbook")
    rels_info = source.find(rels_part_of(part))
    rels = parse_rels(source.read(rels_info.filename)) if rels_info else []
    rel_targets = {rel.id: rel.target for rel in rels if not rel.external}
    tree = ET.fromstring(raw)
    main = f"{{{MAIN_NS}}}"
    sheets = []
    for position, element in enumerate(tree.iterfind(f"{main}sheets/{main}sheet")):
        rel_id = element.get(f"{{{DOC_REL_NS}}}id", "")
        sheet_part = resolve_target(part, rel_targets[rel_id]) if rel_id in rel_targets else ""
        sheet_info = source.find(sheet_part) if sheet_part else None
        sheets.append(
            SheetEntry(
                name=element.get("name", ""),
                position=position,
                sheet_id=int(element.get("sheetId", "0")),
                part=sheet_info.filename if sheet_info else sheet_part,
                content_type=content_types.type_of(sheet_part) if sheet_info else None,
            )
        )
    properties = tree.find(f"{main}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "0").lower() in ("1", "true")
    return WorkbookParts(source, part, xml, prefix, rels, sheets, date1904, content_types)


def parse_cell_ref(ref: str) -> tuple[int, int]:
    """0-based (row, column) of a cell reference like ``"B7"`` or ``"$B$7"``."""
    match = _CELL_REF.fullmatch(ref.strip())
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)) - 1, column_index(match.group(1)) - 1


def column_index(letters: str) -> int:
    """1-based column number of column letters (``"A"`` -> 1)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letter(number: int) -> str:
    """Column letters of a 1-based column number (1 -> ``"A"``)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def quote_sheet_name(name: str) -> str:
    """A sheet name as formulas and defined names reference it (always quoted)."""
    return "'" + name.replace("'", "''") + "'"
