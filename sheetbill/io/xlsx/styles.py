"""The cell formats sheetbill writes with, added to a workbook's styles part without reindexing.

Number formats: ``int`` columns ``0``, ``money`` ``#,##0.00``, ``decimal`` General, ``date``
``yyyy-mm-dd`` (``yyyy-mm-dd hh:mm:ss`` for datetimes), ``percent`` ``0.00"%"``: the value stays the
percent number the core computed (80 shows as ``80.00%``), never divided by 100. The header is the
workbook's default font in bold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

from .package import (
    XML_DECLARATION,
    WorkbookFormatError,
    attributes,
    find_element,
    insert_child,
    iter_elements,
    qname,
    root_element,
    set_attribute,
)
from .workbook import MAIN_NS

_STYLESHEET_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
    "tableStyles", "colors", "extLst",
)
#: What an empty styles part needs before cell formats can point at font/fill/border 0:
#: block -> (child element, default children).
_STYLESHEET_DEFAULTS = {
    "fonts": ("font", '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'),
    "fills": ("fill", '<fill><patternFill patternType="none"/></fill>'
                      '<fill><patternFill patternType="gray125"/></fill>'),
    "borders": ("border", "<border><left/><right/><top/><bottom/><diagonal/></border>"),
    "cellXfs": ("xf", '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'),
}
#: The styles part of a workbook that has none: Excel's defaults with the "Normal" cell style.
NEW_STYLESHEET = (
    f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_PLAIN_XF_ATTRIBUTES = frozenset({"numFmtId", "fontId", "fillId", "borderId", "xfId"})
_BUILTIN_FORMATS = {"text": 0, "decimal": 0, "int": 1, "money": 4}
_CUSTOM_FORMATS = {"percent": '0.00"%"', "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}


@dataclass(frozen=True)
class StyleIds:
    """Cell format (``s``) indexes: the bold header, and one per column kind plus "datetime"."""

    header: int
    kinds: dict[str, int]


def _prefixed(markup: str, prefix: str) -> str:
    """Put `prefix` on every element name of sheetbill-written `markup`."""
    return re.sub(r"<(/?)(\w)", rf"<\1{prefix}:\2", markup) if prefix else markup


def _append_children(xml: str, prefix: str, block: str, child: str, markup: str) -> str:
    """Append `markup` (elements called `child`) to the styleSheet's `block`, creating the block
    in schema order when missing, and set its ``count`` to the number of children."""
    name = qname(prefix, block)
    if find_element(xml, name) is None:
        later = _STYLESHEET_ORDER[_STYLESHEET_ORDER.index(block) + 1 :]
        followers = [qname(prefix, name_after) for name_after in later]
        xml = insert_child(xml, qname(prefix, "styleSheet"), f'<{name} count="0"></{name}>', followers)
    if markup:
        xml = insert_child(xml, name, markup)
    start, tag_end, end = find_element(xml, name)
    count = len(iter_elements(xml, qname(prefix, child), tag_end, end))
    return xml[:start] + set_attribute(xml[start:tag_end], "count", str(count)) + xml[tag_end:]


def _canonical(element_markup: str, prefix: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Children of one element as sorted (tag, sorted attributes): equal for equivalent fonts."""
    declaration = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    element = ET.fromstring(f"<wrap {declaration}>{element_markup}</wrap>")[0]
    return sorted((child.tag, sorted(child.attrib.items())) for child in element)


def ensure_styles(xml: str) -> tuple[str, StyleIds]:
    """Add (or find) the number formats, bold font and cell formats sheetbill writes with.

    Existing entries are never reindexed or changed; identical entries are reused, so repeated
    writes do not grow the styles part.
    """
    prefix, local, _ = root_element(xml)
    if local != "styleSheet":
        raise WorkbookFormatError("the styles part is not a SpreadsheetML styleSheet")
    for block, (child, default) in _STYLESHEET_DEFAULTS.items():
        span = find_element(xml, qname(prefix, block))
        if span is None or not iter_elements(xml, qname(prefix, child), span[1], span[2]):
            xml = _append_children(xml, prefix, block, child, _prefixed(default, prefix))
    xml, format_ids = _number_formats(xml, prefix)
    xml, bold_id = _bold_font(xml, prefix)
    return _cell_formats(xml, prefix, format_ids, bold_id)


def _number_formats(xml: str, prefix: str) -> tuple[str, dict[str, int]]:
    """The number format id of each column kind: a custom format with the same code is reused,
    else one is added, numbered above all others."""
    span = find_element(xml, qname(prefix, "numFmts"))
    known: dict[str, int] = {}
    for start, tag_end, _ in iter_elements(xml, qname(prefix, "numFmt"), *(span[1:] if span else (0, 0))):
        attrs = attributes(xml[start:tag_end])
        known.setdefault(attrs.get("formatCode", ""), int(attrs.get("numFmtId", "0")))
    next_id = max([163, *known.values()]) + 1
    format_ids = dict(_BUILTIN_FORMATS)
    new_formats = []
    for kind, code in _CUSTOM_FORMATS.items():
        if code not in known:
            known[code] = next_id
            new_formats.append(f'<numFmt numFmtId="{next_id}" formatCode={quoteattr(code)}/>')
            next_id += 1
        format_ids[kind] = known[code]
    if new_formats:
        xml = _append_children(xml, prefix, "numFmts", "numFmt", _prefixed("".join(new_formats), prefix))
    return xml, format_ids


def _bold_font(xml: str, prefix: str) -> tuple[str, int]:
    """The index of the bold font: the default font (font 0) plus ``<b/>``, found or added."""
    span = find_element(xml, qname(prefix, "fonts"))
    fonts = iter_elements(xml, qname(prefix, "font"), span[1], span[2])
    start, tag_end, end = fonts[0]
    first = xml[start:end]
    if tag_end == end:
        bold = f"{first[:-2].rstrip()}>{_prefixed('<b/>', prefix)}</{qname(prefix, 'font')}>"
    else:
        bold = xml[start:tag_end] + _prefixed("<b/>", prefix) + xml[tag_end:end]
    if any(tag == f"{{{MAIN_NS}}}b" for tag, _ in _canonical(first, prefix)):
        return xml, 0
    wanted_font = _canonical(bold, prefix)
    matches = [i for i, (s, _, e) in enumerate(fonts) if _canonical(xml[s:e], prefix) == wanted_font]
    if matches:
        return xml, matches[0]
    return _append_children(xml, prefix, "fonts", "font", bold), len(fonts)


def _cell_formats(xml: str, prefix: str, format_ids: dict[str, int], bold_id: int) -> tuple[str, StyleIds]:
    """The cell formats (``cellXfs``) of the header and each column kind: a plain one with the same
    number format and font is reused, else one is added."""
    span = find_element(xml, qname(prefix, "cellStyleXfs"))
    has_style_xfs = span is not None and bool(iter_elements(xml, qname(prefix, "xf"), span[1], span[2]))
    span = find_element(xml, qname(prefix, "cellXfs"))
    existing = []
    for start, tag_end, end in iter_elements(xml, qname(prefix, "xf"), span[1], span[2]):
        attrs = {k: v for k, v in attributes(xml[start:tag_end]).items() if not k.startswith("apply")}
        existing.append(attrs if tag_end == end else None)
    wanted = {"header": (0, bold_id), **{kind: (number, 0) for kind, number in format_ids.items()}}
    ids: dict[str, int] = {}
    new_xfs = []
    for key, (number, font) in wanted.items():
        for index, attrs in enumerate(existing):
            if attrs is not None and _plain_xf(attrs, number, font):
                ids[key] = index
                break
        else:
            ids[key] = len(existing)
            existing.append({"numFmtId": str(number), "fontId": str(font)})
            new_xfs.append(
                f'<xf numFmtId="{number}" fontId="{font}" fillId="0" borderId="0"'
                + (' xfId="0"' if has_style_xfs else "")
                + (' applyNumberFormat="1"' if number else "")
                + (' applyFont="1"' if font else "")
                + "/>"
            )
    if new_xfs:
        xml = _append_children(xml, prefix, "cellXfs", "xf", _prefixed("".join(new_xfs), prefix))
    header = ids.pop("header")
    return xml, StyleIds(header=header, kinds=ids)


def _plain_xf(attrs: dict[str, str], number: int, font: int) -> bool:
    """Whether a childless ``<xf>`` (apply* attributes removed) is exactly number format `number`
    in font `font` with the default fill, border and cell style, and nothing else (no
    quotePrefix, protection or alignment)."""
    return (
        set(attrs) <= _PLAIN_XF_ATTRIBUTES
        and attrs.get("numFmtId", "0") == str(number)
        and attrs.get("fontId", "0") == str(font)
        and all(attrs.get(name, "0") == "0" for name in ("fillId", "borderId", "xfId"))
    )
