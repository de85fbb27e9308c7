"""Zip and Open Packaging Conventions plumbing for the surgical .xlsx writer.

An .xlsx file is a zip of XML "parts" tied together by relationship parts (``_rels/*.rels``) and
typed by ``[Content_Types].xml``. To change a few sheets without disturbing anything else, the
writer copies every untouched entry as its stored compressed bytes with its CRC -- never inflating
and re-deflating it -- and writes only the parts it changes. ``zipfile`` reads the central
directory for us, but it cannot hand out or write raw compressed data through its public API, so
this module copies the data from the local-header offsets and writes its own headers:

* CRC and sizes always go in the local header and the data-descriptor flag is cleared, which every
  reader accepts (a streamed entry from Excel or LibreOffice may have used a descriptor);
* Zip64 fields are written only for entries, offsets or archives past the classic limits;
* new parts are deflated at level 1 (:mod:`.deflate`) and carry a fixed 1980-01-01 time stamp, so the
  same input always gives the same bytes.

It also holds the small OPC helpers the writer needs: relationship and content-type parts,
resolving relationship targets to part names, and a few text-level XML splicing functions used
to edit foreign XML (workbook, styles) without re-serialising -- and so without disturbing -- the
parts of it we do not touch.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

from .deflate import Deflated, deflate_in_background
from .errors import WorkbookFormatError
from .limits import check_declared_sizes

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES_PART = "[Content_Types].xml"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

#: Sizes and offsets above this get Zip64 fields (the same threshold ``zipfile`` uses).
_ZIP64_LIMIT = (1 << 31) - 1
_ZIP_COUNT_LIMIT = 0xFFFF
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FLAG_ENCRYPTED = 0x1
_FLAG_DATA_DESCRIPTOR = 0x8
_FLAG_UTF8 = 0x800
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_CENTRAL_HEADER = struct.Struct("<4s6H3I5H2I")
_EOCD = struct.Struct("<4s4H2IH")
_ZIP64_EOCD = struct.Struct("<4sQ2H2I4Q")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_COPY_CHUNK = 1 << 20
#: Compressed new parts are staged in memory up to this size, then in a temporary file.
_SPOOL_LIMIT = 32 << 20
_DOS_DATE_1980_01_01 = (1 << 5) | 1




@contextmanager
def format_errors(path: Path) -> Iterator[None]:
    """Turn what a damaged package raises while it is parsed (bad XML, corrupt deflate data, a wrong
    CRC, a value that is not a number) into WorkbookFormatError naming the file."""
    try:
        yield
    except WorkbookFormatError:
        raise
    except (ET.ParseError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, UnicodeDecodeError,
            ValueError, KeyError, IndexError) as err:
        raise WorkbookFormatError(f"{Path(path).name} is damaged and cannot be read ({type(err).__name__}: "
                                  f"{str(err)[:160]}); open and save it in Excel, or use its .bak") from err


# --------------------------------------------------------------------------------------------
# Reading and writing the zip container
# --------------------------------------------------------------------------------------------


class ZipSource:
    """An existing zip package, opened for reading parts and for copying entries verbatim.

    Part names are matched ignoring case, as OPC requires. Use as a context manager.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as probe:
            if probe.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
                raise WorkbookFormatError(
                    f"{self.path.name} is encrypted (password to open) or a legacy .xls file; "
                    "save it from Excel as an .xlsx workbook without a password"
                )
        try:
            self._zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise WorkbookFormatError(f"{self.path.name} is not an .xlsx workbook (not a zip file)") from exc
        self.entries: list[zipfile.ZipInfo] = self._zip.infolist()
        try:
            check_declared_sizes(self.path.name, self.entries)
        except BaseException:
            self._zip.close()
            raise
        self.comment: bytes = self._zip.comment
        self._by_key: dict[str, zipfile.ZipInfo] = {}
        for info in self.entries:
            key = info.filename.casefold()
            if info.flag_bits & _FLAG_ENCRYPTED or key in self._by_key:
                self._zip.close()
                problem = "is encrypted" if info.flag_bits & _FLAG_ENCRYPTED else "appears twice"
                raise WorkbookFormatError(f"{self.path.name}: zip entry {info.filename} {problem}")
            self._by_key[key] = info
        self._raw = open(self.path, "rb")

    def __enter__(self) -> ZipSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying file handles."""
        self._zip.close()
        self._raw.close()

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The entry for part `name` (case-insensitive), or None."""
        return self._by_key.get(name.casefold())

    def read(self, name: str) -> bytes:
        """The decompressed content of part `name`; KeyError when absent."""
        info = self.find(name)
        if info is None:
            raise KeyError(name)
        return self._zip.read(info)

    def read_head(self, name: str, size: int) -> bytes:
        """At most `size` decompressed bytes from the start of part `name` (cheap for huge parts)."""
        info = self.find(name)
        if info is None:
            raise KeyError(name)
        with self._zip.open(info) as stream:
            return stream.read(size)

    def open(self, name: str) -> BinaryIO:
        """A streaming reader of part `name`'s decompressed content."""
        info = self.find(name)
        if info is None:
            raise KeyError(name)
        return self._zip.open(info)

    def raw_data(self, info: zipfile.ZipInfo, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the entry's stored (compressed) bytes, exactly as they are in the file (those from
        `start` to `end` when given)."""
        self._raw.seek(info.header_offset)
        header = self._raw.read(_LOCAL_HEADER.size)
        fields = _LOCAL_HEADER.unpack(header) if len(header) == _LOCAL_HEADER.size else None
        if fields is None or fields[0] != b"PK\x03\x04":
            raise WorkbookFormatError(f"{self.path.name}: bad local header for {info.filename}")
        end = info.compress_size if end is None else end
        if not 0 <= start <= end <= info.compress_size:
            raise ValueError(f"{info.filename}: byte range {start}-{end} outside the entry")
        self._raw.seek(info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10] + start)
        remaining = end - start
        while remaining:
            chunk = self._raw.read(min(remaining, _COPY_CHUNK))
            if not chunk:
                raise WorkbookFormatError(f"{self.path.name}: {info.filename} is truncated")
            remaining -= len(chunk)
            yield chunk


@dataclass
class _Entry:
    """What the central directory needs to know about one written entry."""

    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compress_size: int
    file_size: int
    offset: int
    extract_version: int = 20
    made_by: int = 20
    internal_attr: int = 0
    external_attr: int = 0
    comment: bytes = b""


class ZipSink:
    """Writes a zip file entry by entry: verbatim copies of existing entries and new parts."""

    def __init__(self, stream: BinaryIO) -> None:
        self._out = stream
        self._entries: list[_Entry] = []

    def copy(self, source: ZipSource, info: zipfile.ZipInfo) -> None:
        """Copy an entry's compressed bytes and CRC unchanged (no inflate, no re-deflate)."""
        year, month, day, hour, minute, second = info.date_time
        encoding = "utf-8" if info.flag_bits & _FLAG_UTF8 else "cp437"
        entry = _Entry(
            name=info.orig_filename.encode(encoding),
            flags=info.flag_bits & ~_FLAG_DATA_DESCRIPTOR,
            method=info.compress_type,
            dos_time=(hour << 11) | (minute << 5) | (second // 2),
            dos_date=((year - 1980) << 9) | (month << 5) | day,
            crc=info.CRC,
            compress_size=info.compress_size,
            file_size=info.file_size,
            offset=self._out.tell(),
            extract_version=info.extract_version,
            made_by=(info.create_system << 8) | info.create_version,
            internal_attr=info.internal_attr,
            external_attr=info.external_attr,
            comment=info.comment,
        )
        self._write_local_header(entry)
        for chunk in source.raw_data(info):
            self._out.write(chunk)
        self._entries.append(entry)

    def write(self, name: str, chunks: Iterable[bytes], comment: Callable[[Deflated], bytes] | None = None) -> None:
        """Deflate (level 1) and write a new entry from a stream of byte chunks (with the markers
        :func:`deflate_in_background` understands); `comment` makes the entry's comment from the
        result.

        The compressed data is staged in a spooled temporary file so the local header can carry
        the final CRC and sizes -- and Zip64 fields only when they are really needed.
        """
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_LIMIT) as spool:
            deflated = deflate_in_background(chunks, spool)
            crc, size = deflated.crc, deflated.size
            encoded = name.encode("utf-8")
            entry = _Entry(
                name=encoded,
                flags=0 if encoded.isascii() else _FLAG_UTF8,
                method=zipfile.ZIP_DEFLATED,
                dos_time=0,
                dos_date=_DOS_DATE_1980_01_01,
                crc=crc,
                compress_size=spool.tell(),
                file_size=size,
                offset=self._out.tell(),
            )
            if comment is not None:
                entry.comment = comment(deflated)
            self._write_local_header(entry)
            spool.seek(0)
            shutil.copyfileobj(spool, self._out, _COPY_CHUNK)
        self._entries.append(entry)

    def _write_local_header(self, entry: _Entry) -> None:
        extra = b""
        compress_size, file_size = entry.compress_size, entry.file_size
        if max(compress_size, file_size) > _ZIP64_LIMIT:
            # A local Zip64 field must hold both sizes.
            extra = struct.pack("<HHQQ", 1, 16, file_size, compress_size)
            compress_size = file_size = 0xFFFFFFFF
            entry.extract_version = max(entry.extract_version, 45)
        self._out.write(
            _LOCAL_HEADER.pack(
                b"PK\x03\x04", entry.extract_version, entry.flags, entry.method, entry.dos_time,
                entry.dos_date, entry.crc, compress_size, file_size, len(entry.name), len(extra),
            )
        )
        self._out.write(entry.name + extra)

    def close(self, comment: bytes = b"") -> None:
        """Write the central directory and end records (Zip64 ones when needed)."""
        directory_start = self._out.tell()
        for entry in self._entries:
            sizes: list[int] = []
            file_size, compress_size, offset = entry.file_size, entry.compress_size, entry.offset
            if file_size > _ZIP64_LIMIT or compress_size > _ZIP64_LIMIT:
                sizes += [file_size, compress_size]
                file_size = compress_size = 0xFFFFFFFF
            if offset > _ZIP64_LIMIT:
                sizes.append(offset)
                offset = 0xFFFFFFFF
            extra = struct.pack(f"<HH{len(sizes)}Q", 1, 8 * len(sizes), *sizes) if sizes else b""
            extract_version = max(entry.extract_version, 45) if sizes else entry.extract_version
            self._out.write(
                _CENTRAL_HEADER.pack(
                    b"PK\x01\x02", entry.made_by, extract_version, entry.flags, entry.method,
                    entry.dos_time, entry.dos_date, entry.crc, compress_size, file_size,
                    len(entry.name), len(extra), len(entry.comment), 0, entry.internal_attr,
                    entry.external_attr, offset,
                )
            )
            self._out.write(entry.name + extra + entry.comment)
        directory_end = self._out.tell()
        count, size = len(self._entries), directory_end - directory_start
        if count > _ZIP_COUNT_LIMIT or size > _ZIP64_LIMIT or directory_start > _ZIP64_LIMIT:
            self._out.write(
                _ZIP64_EOCD.pack(
                    b"PK\x06\x06", _ZIP64_EOCD.size - 12, 45, 45, 0, 0, count, count, size, directory_start
                )
            )
            self._out.write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, directory_end, 1))
        short_count = min(count, _ZIP_COUNT_LIMIT)
        self._out.write(
            _EOCD.pack(
                b"PK\x05\x06", 0, 0, short_count, short_count, min(size, 0xFFFFFFFF),
                min(directory_start, 0xFFFFFFFF), len(comment),
            )
        )
        self._out.write(comment)


# --------------------------------------------------------------------------------------------
# Part names, relationships, content types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    """One ``<Relationship>`` of a relationship part; `target` as written (relative or absolute)."""

    id: str
    type: str
    target: str
    external: bool = False


def rels_part_of(part: str) -> str:
    """The relationship part of `part` (``""`` means the package itself)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve_target(source: str, target: str) -> str:
    """The part name a relationship target of part `source` points at (no leading slash)."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def relative_target(source: str, part: str) -> str:
    """A relative relationship target for `part`, as Excel writes them."""
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


def parse_rels(data: bytes) -> list[Relationship]:
    """The relationships in a ``.rels`` part, in document order."""
    rels = []
    for element in ET.fromstring(data).iter(f"{{{RELS_NS}}}Relationship"):
        rels.append(
            Relationship(
                id=element.get("Id", ""),
                type=element.get("Type", ""),
                target=element.get("Target", ""),
                external=element.get("TargetMode") == "External",
            )
        )
    return rels


def render_rels(rels: Iterable[Relationship]) -> bytes:
    """A ``.rels`` part holding `rels`."""
    lines = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{RELS_NS}">']
    for rel in rels:
        mode = ' TargetMode="External"' if rel.external else ""
        lines.append(
            f"<Relationship Id={quoteattr(rel.id)} Type={quoteattr(rel.type)} "
            f"Target={quoteattr(rel.target)}{mode}/>"
        )
    lines.append("</Relationships>")
    return "".join(lines).encode("utf-8")


def free_part_name(pattern: str, taken: set[str]) -> str:
    """The first ``pattern.format(n)`` (n = 1, 2, ...) whose casefold is not in `taken`."""
    number = 1
    while pattern.format(number).casefold() in taken:
        number += 1
    return pattern.format(number)


def next_rel_id(rels: Iterable[Relationship]) -> str:
    """A relationship id ``rIdN`` not used in `rels`."""
    used = {rel.id for rel in rels}
    numbers = [int(match.group(1)) for rel_id in used if (match := re.fullmatch(r"rId(\d+)", rel_id))]
    number = max(numbers, default=0) + 1
    while f"rId{number}" in used:
        number += 1
    return f"rId{number}"


@dataclass
class ContentTypes:
    """``[Content_Types].xml``: default types by extension and overrides by part name."""

    defaults: dict[str, tuple[str, str]] = field(default_factory=dict)
    overrides: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes) -> ContentTypes:
        """Read the content-types part. Keys are casefolded; values keep the original spelling."""
        types = cls()
        for element in ET.fromstring(data):
            if element.tag == f"{{{CONTENT_TYPES_NS}}}Default":
                extension = element.get("Extension", "")
                types.defaults[extension.casefold()] = (extension, element.get("ContentType", ""))
            elif element.tag == f"{{{CONTENT_TYPES_NS}}}Override":
                part = element.get("PartName", "").lstrip("/")
                types.overrides[part.casefold()] = (part, element.get("ContentType", ""))
        return types

    def type_of(self, part: str) -> str | None:
        """The content type of `part`, or None when neither an override nor a default applies."""
        override = self.overrides.get(part.casefold())
        if override:
            return override[1]
        default = self.defaults.get(posixpath.splitext(part)[1].lstrip(".").casefold())
        return default[1] if default else None

    def render(self) -> bytes:
        """The content-types part."""
        lines = [f'{XML_DECLARATION}<Types xmlns="{CONTENT_TYPES_NS}">']
        for extension, content_type in self.defaults.values():
            lines.append(
                f"<Default Extension={quoteattr(extension)} ContentType={quoteattr(content_type)}/>"
            )
        for part, content_type in self.overrides.values():
            lines.append(
                f"<Override PartName={quoteattr('/' + part)} ContentType={quoteattr(content_type)}/>"
            )
        lines.append("</Types>")
        return "".join(lines).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Text-level XML surgery
# --------------------------------------------------------------------------------------------

#: The rest of a start tag after its name: attributes (values may hold ``>``), then ``>`` or ``/>``.
_TAG_TAIL = r"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>"""
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


def qname(prefix: str, local: str) -> str:
    """``prefix:local``, or just `local` for the default namespace."""
    return f"{prefix}:{local}" if prefix else local


def find_element(xml: str, name: str, start: int = 0, end: int | None = None) -> tuple[int, int, int] | None:
    """Locate the first element called `name` (a qualified name) in ``xml[start:end]``.

    Returns ``(element start, start-tag end, element end)``; for an empty element the last two
    are equal. The element must not contain another element of the same name (true for every
    element this module edits).
    """
    pattern = re.compile(f"<{re.escape(name)}(?=[\\s/>]){_TAG_TAIL}")
    match = pattern.search(xml, start, len(xml) if end is None else end)
    if match is None:
        return None
    if match.group(1):
        return match.start(), match.end(), match.end()
    close = re.compile(f"</{re.escape(name)}\\s*>").search(xml, match.end())
    if close is None:
        raise WorkbookFormatError(f"unterminated <{name}> element")
    return match.start(), match.end(), close.end()


def iter_elements(xml: str, name: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """Every element called `name` in ``xml[start:end]``, as :func:`find_element` spans."""
    spans = []
    while (span := find_element(xml, name, start, end)) is not None:
        spans.append(span)
        start = span[2]
    return spans


def attributes(start_tag: str) -> dict[str, str]:
    """The attributes of a start tag as a dict of qualified name to unescaped value."""
    return {name: _unescape_attribute(value[1:-1]) for name, value in _ATTRIBUTE.findall(start_tag)}


def set_attribute(start_tag: str, name: str, value: str) -> str:
    """`start_tag` with attribute `name` set to `value` (replaced in place or appended)."""
    encoded = quoteattr(value)
    pattern = re.compile(f"""(\\s){re.escape(name)}\\s*=\\s*("[^"]*"|'[^']*')""")
    if pattern.search(start_tag):
        return pattern.sub(lambda match: f"{match.group(1)}{name}={encoded}", start_tag, count=1)
    cut = len(start_tag) - (2 if start_tag.endswith("/>") else 1)
    return f"{start_tag[:cut].rstrip()} {name}={encoded}{start_tag[cut:]}"


def root_element(xml: str) -> tuple[str, str, str]:
    """``(prefix, local name, start tag)`` of the document element."""
    match = re.search(f"<(?![?!])(?:([\\w.-]+):)?([\\w.-]+)(?=[\\s/>]){_TAG_TAIL}", xml)
    if match is None:
        raise WorkbookFormatError("part has no XML document element")
    return match.group(1) or "", match.group(2), match.group(0)


def namespace_prefix(start_tag: str, namespace: str) -> str | None:
    """The prefix a start tag binds to `namespace` (``""`` for the default one), or None."""
    for name, value in attributes(start_tag).items():
        if value == namespace and (name == "xmlns" or name.startswith("xmlns:")):
            return name.partition(":")[2]
    return None


def insert_child(xml: str, parent: str, child_text: str, followers: Iterable[str] = ()) -> str:
    """Insert `child_text` into the first element `parent` (a qualified name) before the first
    child among `followers` (the qualified names the schema puts after it), or at the end of the
    parent; an empty parent element is opened up."""
    span = find_element(xml, parent)
    if span is None:
        raise WorkbookFormatError(f"no <{parent}> element")
    start, tag_end, end = span
    if tag_end == end:
        opened = xml[start:tag_end][:-2].rstrip() + ">"
        return f"{xml[:start]}{opened}{child_text}</{parent}>{xml[end:]}"
    positions = [found[0] for name in followers if (found := find_element(xml, name, tag_end, end))]
    at = min(positions, default=xml.rindex("</", tag_end, end))
    return xml[:at] + child_text + xml[at:]


def _unescape_attribute(raw: str) -> str:
    if "&" not in raw:
        return raw
    quote = "'" if '"' in raw else '"'
    return ET.fromstring(f"<a v={quote}{raw}{quote}/>").get("v", "")
