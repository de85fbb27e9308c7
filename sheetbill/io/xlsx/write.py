"""The surgical writer: :func:`write_output_sheets` replaces or appends sheetbill's sheets and
copies every other part of the file byte for byte.

It never loads the workbook into an object model. It copies every zip entry it does not own as its
stored compressed bytes with its CRC, so macros, buttons, charts, images, sparklines, validation,
conditional formats, comments, names and formulas with their cached values survive bit for bit. It
streams the output sheets' XML, appends the cell formats it needs to styles.xml without
reindexing, drops calcChain and asks Excel to recalculate on open. A sheet that only grew since
sheetbill last wrote it is extended: its compressed rows are copied and only the new rows are
rendered and deflated (:mod:`.append`). The new file is installed with
:func:`sheetbill.files.write_atomic`.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from ...files import write_atomic
from ...sheets import MAX_ROWS, Column, OutputSheet
from .append import body_intact, new_mark, read_mark, reused_body, style_signature
from .charts import chart_xml, drawing_xml
from .deflate import Deflated
from .package import (
    CONTENT_TYPES_PART,
    ContentTypes,
    Relationship,
    ZipSink,
    ZipSource,
    attributes,
    find_element,
    free_part_name,
    insert_child,
    iter_elements,
    namespace_prefix,
    next_rel_id,
    parse_rels,
    qname,
    relative_target,
    rels_part_of,
    render_rels,
    resolve_target,
    root_element,
    set_attribute,
)
from .plan import PlannedSheet, plan_sheets
from .render import sheet_part
from .styles import NEW_STYLESHEET, StyleIds, ensure_styles
from .workbook import (
    CT_CHART,
    CT_DRAWING,
    CT_STYLES,
    CT_WORKSHEET,
    DOC_REL_NS,
    RT_CALC_CHAIN,
    RT_CHART,
    RT_DRAWING,
    RT_STYLES,
    RT_WORKSHEET,
    WorkbookParts,
    column_letter,
    decode_xml,
    load_workbook_parts,
    quote_sheet_name,
)

_WORKBOOK_AFTER_DEFINED_NAMES = (
    "calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
    "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)


class WorkbookLockedError(Exception):
    """The workbook is open in Excel or LibreOffice (their lock file sits next to it)."""


class WorkbookChangedError(WorkbookLockedError):
    """The workbook changed (another program saved it) since the run read it; nothing was written."""


@dataclass(frozen=True)
class FileVersion:
    """What tells one saved version of a workbook from another: size, modification time and the run
    stamp sheetbill stored in it."""

    size: int
    mtime_ns: int
    stamp: str | None


def file_version(path: Path) -> FileVersion:
    """The version of the workbook at ``path`` now."""
    from .stamp import read_stamp

    found = Path(path).stat()
    try:
        stamp = read_stamp(path)
    except Exception:  # not readable as a workbook: size and time still tell versions apart
        stamp = None
    return FileVersion(found.st_size, found.st_mtime_ns, stamp)


def _edit_workbook(book: WorkbookParts, jobs: list[PlannedSheet], new_sheets: list[str]) -> str:
    """workbook.xml with the new ``<sheet>`` elements appended, the autofilter names of the
    written sheets replaced, and ``fullCalcOnLoad`` set; everything else stays as it was."""
    xml = book.xml

    def q(local_name: str) -> str:
        return qname(book.prefix, local_name)

    if new_sheets:
        xml = insert_child(xml, q("sheets"), "".join(new_sheets))
    positions = {str(job.position) for job in jobs}
    filter_names = "".join(
        f'<{q("definedName")} name="_xlnm._FilterDatabase" localSheetId="{job.position}" hidden="1">'
        f"{escape(quote_sheet_name(job.name))}!$A$1:${column_letter(len(job.columns))}${len(job.rows) + 1}"
        f'</{q("definedName")}>'
        for job in jobs
    )
    span = find_element(xml, q("definedNames"))
    if span is None:
        followers = [q(name) for name in _WORKBOOK_AFTER_DEFINED_NAMES]
        block = f"<{q('definedNames')}>{filter_names}</{q('definedNames')}>"
        xml = insert_child(xml, q("workbook"), block, followers)
    else:
        for start, tag_end, end in reversed(iter_elements(xml, q("definedName"), span[1], span[2])):
            found = attributes(xml[start:tag_end])
            if found.get("name") == "_xlnm._FilterDatabase" and found.get("localSheetId") in positions:
                xml = xml[:start] + xml[end:]
        xml = insert_child(xml, q("definedNames"), filter_names)
    span = find_element(xml, q("calcPr"))
    if span is None:
        followers = [q(name) for name in _WORKBOOK_AFTER_DEFINED_NAMES[1:]]
        xml = insert_child(xml, q("workbook"), f'<{q("calcPr")} fullCalcOnLoad="1"/>', followers)
    else:
        start, tag_end, _ = span
        xml = xml[:start] + set_attribute(xml[start:tag_end], "fullCalcOnLoad", "1") + xml[tag_end:]
    return xml


def _reachable(source: ZipSource, rels_of: Callable[[str], list[Relationship]]) -> set[str]:
    """Casefolded names of the parts reachable from the package root through relationships."""
    seen: set[str] = set()
    pending = [""]
    while pending:
        part = pending.pop()
        for rel in rels_of(part):
            target = resolve_target(part, rel.target)
            if not rel.external and target.casefold() not in seen and source.find(target) is not None:
                seen.add(target.casefold())
                pending.append(target)
    return seen


@dataclass
class _NewPackage:
    """The package being written, built up before a byte of it goes out.

    ``outputs`` maps a casefolded part name to the part's name, a producer of its bytes and a maker
    of its zip entry comment (or None), in the order new parts are appended to the zip; ``rels``
    are the workbook part's relationships as they will be; ``taken`` holds the casefolded names in
    use; ``removed`` the casefolded names of the entries not to copy.
    """

    book: WorkbookParts
    content_types: ContentTypes
    rels: list[Relationship]
    taken: set[str]
    outputs: dict[str, tuple[str, Callable[[], Iterable[bytes]], Callable[[Deflated], bytes] | None]] = field(
        default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def put(self, part: str, data: bytes) -> None:
        """Write `data` as `part` (new, or replacing the entry of that name)."""
        self.outputs[part.casefold()] = (part, lambda: [data], None)
        self.taken.add(part.casefold())

    def add_type(self, part: str, content_type: str) -> None:
        """Declare `part`'s content type."""
        self.content_types.overrides[part.casefold()] = (part, content_type)

    def free_name(self, pattern: str) -> str:
        """A part name from `pattern` (``{}`` is a number) in the workbook's folder, not yet taken."""
        return free_part_name(posixpath.join(posixpath.dirname(self.book.part), pattern), self.taken)


def _write_package(book: WorkbookParts, jobs: list[PlannedSheet], stream: BinaryIO) -> None:
    """Write the new package: changed and new parts generated, every other entry copied raw.

    Parts that only the replaced sheets (or calcChain) led to -- their drawings, tables,
    comments, printer settings -- are dropped with their relationships and content types; parts
    still referenced from elsewhere (an image two drawings share) stay.
    """
    source = book.source
    new = _NewPackage(
        book,
        ContentTypes.parse(source.read(CONTENT_TYPES_PART)),
        [rel for rel in book.rels if rel.type != RT_CALC_CHAIN],
        {info.filename.casefold() for info in source.entries},
    )
    style_ids = _update_styles(new)
    new_sheets = _place_sheets(new, jobs)
    _drop_orphans(new, jobs)
    _add_charts(new, jobs)
    for job in jobs:
        _put_sheet(new, job, style_ids)
    workbook_xml = _edit_workbook(book, jobs, new_sheets)
    if workbook_xml != book.xml:
        new.put(book.part, workbook_xml.encode("utf-8"))
    if new.rels != book.rels:
        rels_info = source.find(rels_part_of(book.part))
        new.put(rels_info.filename if rels_info else rels_part_of(book.part), render_rels(new.rels))
    if new.content_types != book.content_types:
        new.put(CONTENT_TYPES_PART, new.content_types.render())
    _write_zip(new, stream)


def _put_sheet(new: _NewPackage, job: PlannedSheet, style_ids: StyleIds) -> None:
    """Plan the part of `job`: extending the existing part when its append mark still holds (same
    cell formats, compressed rows unchanged), else rendered whole; either way with a new mark."""
    source, date1904 = new.book.source, new.book.date1904
    info = source.find(job.part) if job.extends is not None else None
    mark = read_mark(info)
    if mark is None or mark != job.extends or mark.styles != style_signature(style_ids) or info is None \
            or not body_intact(source, info, mark):
        job.extends = None

    def produce() -> Iterable[bytes | object]:
        if job.extends is not None and info is not None:
            return sheet_part(job, style_ids, date1904, reused_body(source, info, job.extends))
        return sheet_part(job, style_ids, date1904)

    def comment(deflated: Deflated) -> bytes:
        return new_mark(len(job.rows), job.digest, (job.head, job.chain), job.kept_as, style_ids, deflated).comment()

    new.outputs[job.part.casefold()] = (job.part, produce, comment)


def _update_styles(new: _NewPackage) -> StyleIds:
    """Add sheetbill's cell formats to the styles part (creating the part if the workbook has none)."""
    book, source = new.book, new.book.source
    styles_rel = next((rel for rel in new.rels if rel.type == RT_STYLES and not rel.external), None)
    styles_part = resolve_target(book.part, styles_rel.target) if styles_rel else ""
    if styles_rel and source.find(styles_part):
        styles_xml = decode_xml(source.read(styles_part), styles_part)
    else:
        # The conventional name first: openpyxl, for one, looks for styles only there.
        conventional = posixpath.join(posixpath.dirname(book.part), "styles.xml")
        if not styles_part:
            styles_part = conventional if conventional.casefold() not in new.taken else new.free_name("styles{}.xml")
        styles_xml = NEW_STYLESHEET
        if styles_rel is None:
            new.rels.append(Relationship(next_rel_id(new.rels), RT_STYLES, relative_target(book.part, styles_part)))
        new.add_type(styles_part, CT_STYLES)
    new_styles, style_ids = ensure_styles(styles_xml)
    if new_styles != styles_xml:
        new.put(styles_part, new_styles.encode("utf-8"))
    return style_ids


def _place_sheets(new: _NewPackage, jobs: list[PlannedSheet]) -> list[str]:
    """Give each job its part and position: a replaced sheet's own, or a new part appended with its
    relationship and content type. Returns the ``<sheet>`` elements to add to the workbook part."""
    book = new.book
    rel_prefix = namespace_prefix(root_element(book.xml)[2], DOC_REL_NS)
    id_attribute = f"{rel_prefix}:id" if rel_prefix else f'xmlns:r="{DOC_REL_NS}" r:id'
    new_sheets = []
    sheet_id = max((sheet.sheet_id for sheet in book.sheets), default=0) + 1
    position = len(book.sheets)
    for job in jobs:
        if job.existing is not None:
            job.part, job.position = job.existing.part, job.existing.position
            continue
        job.part = new.free_name("worksheets/sheet{}.xml")
        new.taken.add(job.part.casefold())
        job.position, position = position, position + 1
        rel_id = next_rel_id(new.rels)
        new.rels.append(Relationship(rel_id, RT_WORKSHEET, relative_target(book.part, job.part)))
        new_sheets.append(f'<{qname(book.prefix, "sheet")} name={quoteattr(job.name)} sheetId="{sheet_id}" '
                          f'{id_attribute}="{rel_id}"/>')
        sheet_id += 1
        new.add_type(job.part, CT_WORKSHEET)
    return new_sheets


def _drop_orphans(new: _NewPackage, jobs: list[PlannedSheet]) -> None:
    """Mark for removal the parts that only replaced sheets (or calcChain) led to, with their
    relationship parts and content types."""
    book, source = new.book, new.book.source
    parsed: dict[str, list[Relationship]] = {}

    def original_rels(part: str) -> list[Relationship]:
        if part.casefold() not in parsed:
            info = source.find(rels_part_of(part))
            parsed[part.casefold()] = parse_rels(source.read(info.filename)) if info else []
        return parsed[part.casefold()]

    replaced = {job.part.casefold() for job in jobs if job.existing is not None}

    def updated_rels(part: str) -> list[Relationship]:
        if part.casefold() == book.part.casefold():
            return new.rels
        return [] if part.casefold() in replaced else original_rels(part)

    removed = _reachable(source, original_rels) - _reachable(source, updated_rels)
    removed |= {rels_part_of(part).casefold() for part in removed | replaced}
    new.taken -= removed
    for key in removed:
        new.content_types.overrides.pop(key, None)
    new.removed = removed


def _add_charts(new: _NewPackage, jobs: list[PlannedSheet]) -> None:
    """A drawing and a chart part, with their relationships, for each job that has a chart."""
    for job in jobs:
        if job.chart is None:
            continue
        drawing = new.free_name("drawings/drawing{}.xml")
        new.taken.add(drawing.casefold())
        chart = new.free_name("charts/chart{}.xml")
        job.drawing_rel_id = "rId1"
        to_drawing = Relationship("rId1", RT_DRAWING, relative_target(job.part, drawing))
        new.put(rels_part_of(job.part), render_rels([to_drawing]))
        new.put(drawing, drawing_xml(job.chart))
        to_chart = Relationship("rId1", RT_CHART, relative_target(drawing, chart))
        new.put(rels_part_of(drawing), render_rels([to_chart]))
        new.put(chart, chart_xml(job))
        new.add_type(drawing, CT_DRAWING)
        new.add_type(chart, CT_CHART)


def _write_zip(new: _NewPackage, stream: BinaryIO) -> None:
    """Write the zip: the content types first, then every entry in its old order (generated or
    copied raw, removed ones left out), then the new parts."""
    source, outputs = new.book.source, new.outputs
    sink = ZipSink(stream)

    def emit(key: str) -> None:
        name, produce, comment = outputs.pop(key)
        sink.write(name, produce(), comment)

    first = CONTENT_TYPES_PART.casefold()
    if first in outputs:
        emit(first)
    else:
        sink.copy(source, source.find(CONTENT_TYPES_PART))
    for info in source.entries:
        key = info.filename.casefold()
        if key == first:
            continue
        if key in outputs:
            emit(key)
        elif key not in new.removed:
            sink.copy(source, info)
    for key in list(outputs):
        emit(key)
    sink.close(source.comment)


def _refuse_if_locked(target: Path) -> None:
    """Raise WorkbookLockedError when Excel's or LibreOffice's lock file sits next to `target`."""
    for lock, program in (
        (target.with_name(f"~${target.name}"), "Excel"),
        (target.with_name(f".~lock.{target.name}#"), "LibreOffice"),
    ):
        if lock.exists():
            raise WorkbookLockedError(
                f"{target.name} is open in {program} (lock file {lock.name}); close it there first, "
                "or run again with --force if the lock file is stale (left behind by a crash)"
            )


def write_output_sheets(
    path: Path,
    sheets: Sequence[OutputSheet],
    *,
    out: Path | None = None,
    force: bool = False,
    backup: bool = True,
    stamp: str | None = None,
    stamp_sheet: str = "Problems",
    expect: FileVersion | None = None,
    rendered: dict[str, tuple[Sequence[Sequence[object]], tuple[Column, ...]]] | None = None,
    _max_rows: int = MAX_ROWS,
) -> bool:
    """Write `sheets` into the workbook at `path` (or into a copy at `out`).

    A sheet whose name matches an existing sheet (ignoring case) replaces it in place: same
    position, name and part, its old drawings, tables, comments and autofilter name dropped.
    Other sheets are appended. Every other part of the file is copied byte for byte.

    The write is atomic: a temporary file in the target's folder is fsynced and renamed over the
    target; with `backup` the previous target is first copied to ``<target>.bak``.

    Returns False, writing nothing, when every sheet already holds exactly this content (the
    digest stored by the previous write matches); with a different `out`, that file becomes a
    plain copy of `path`. Returns True when the sheets were written.

    A table longer than the grid continues on ``"<name> 2"``, ``"<name> 3"`` ... (header
    repeated); continuation sheets of an earlier, longer write are emptied to their header row.
    `_max_rows` (the grid's height, header included) exists for tests.

    `stamp` is stored on the output sheet `stamp_sheet` (see :func:`read_stamp` and
    :func:`input_stamp`): a front end records which inputs the outputs were computed from.

    `expect` is the version of the file the outputs were computed from (:func:`file_version`); when
    the file is no longer that version, WorkbookChangedError is raised and nothing is written.

    `rendered`, when given, receives the data rows and columns of every sheet part the sheets are
    written on (continuation sheets, and earlier ones emptied, included), by the part's sheet name
    casefolded (see :mod:`.written`).

    Raises WorkbookLockedError when the target is open in Excel or LibreOffice (unless `force`),
    WorkbookFormatError when `path` is not an .xlsx/.xlsm workbook, ValueError for invalid sheet
    names, overlong text, NaN or infinite numbers (naming sheet, cell and column), and TypeError
    for values of other types.
    """
    source_path = Path(path)
    target = Path(out) if out is not None else source_path
    if _max_rows < 2:
        raise ValueError("_max_rows must leave room for the header and one row")
    if not force:
        _refuse_if_locked(target)
    in_place = target.exists() and os.path.samefile(source_path, target)
    if expect is not None and file_version(source_path) != expect:
        raise WorkbookChangedError(
            f"{source_path.name} changed since this run read it (saved by another program or run); "
            "nothing was written: run again")
    with ZipSource(source_path) as source:
        version = _file_version(source_path)
        jobs = plan_sheets(sheets, load_workbook_parts(source), _max_rows, stamp, stamp_sheet)
    if rendered is not None:
        rendered.update((job.name.casefold(), (job.rows, job.columns)) for job in jobs)
    changed = not all(job.existing is not None and job.stored_digest == job.digest for job in jobs)
    if not changed and in_place:
        return False
    if changed:
        write_atomic(target, lambda stream: _write_planned(source_path, version, jobs, stream), backup=backup)
    else:
        write_atomic(target, lambda stream: _copy_file(source_path, stream), backup=backup)
    return changed


def _file_version(path: Path) -> tuple[int, int, int]:
    """What tells one saved version of the file at ``path`` from another: inode, size, mtime."""
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def _write_planned(
    source_path: Path, version: tuple[int, int, int], jobs: list[PlannedSheet], stream: BinaryIO
) -> None:
    """Write the package planned as ``jobs`` from the workbook at ``source_path`` into ``stream``.

    The workbook is opened again here, and closed before the new file is renamed over it (Windows
    cannot replace an open file); ``version`` makes sure it is still the file the plan was made from.
    """
    with ZipSource(source_path) as source:
        if _file_version(source_path) != version:
            raise WorkbookChangedError(f"{source_path.name} changed while sheetbill wrote it; nothing was written: "
                                       "run again")
        _write_package(load_workbook_parts(source), jobs, stream)


def _copy_file(path: Path, stream: BinaryIO) -> None:
    """Stream the file at ``path`` into ``stream``."""
    with open(path, "rb") as original:
        shutil.copyfileobj(original, stream)
