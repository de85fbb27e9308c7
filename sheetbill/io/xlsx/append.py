"""Extending a sheet part that only grew, instead of rendering and deflating all of it again.

sheetbill writes each sheet part in three deflate segments, each ended by a full flush point (see
:mod:`.deflate`): the head (root element with the digest, dimension, widths, header row), the data
rows, and the tail (autofilter, margins, drawing). The zip entry's comment in the central directory
records the rows the middle segment holds, the digest of the sheet as written, where the segments
lie and their CRC-32s: an :class:`AppendMark`. It lives outside the part, so readers never see it,
and any program that re-saves the workbook drops it.

When the next write of that sheet starts with the same rows (the digest of its first ``rows`` rows
equals the recorded one, see :mod:`.plan`) and uses the same cell formats, the writer renders the
head and the tail afresh, copies the compressed middle segment as it is, and renders and deflates only
the new rows. The uncompressed part is byte for byte what a full write produces. Whatever does not
match -- no mark, a mark whose checksum, CRC or sizes disagree with the entry, compressed bytes that
changed, head and tail that do not fold into the entry's CRC-32 with the recorded middle, other rows,
other formats -- means a full write.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass

from .deflate import Deflated, RawSegment, crc32_combine
from .package import ZipSource
from .styles import StyleIds

_MAGIC = b"sheetbill-append/2 "
_SUM_LENGTH = 16
#: The mark's fields that are text; the others are counts and offsets.
_TEXTS = ("digest", "digest_head", "digest_chain", "kept_as", "styles")
#: A link of the plan digest chain: SHA-256, in hex.
_HEX_LINK = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class AppendMark:
    """What the next write needs to extend a sheet part, kept in its zip entry's comment.

    `rows`: data rows in the middle segment; `digest`: the plan digest of the sheet as written (of
    its identity and those rows), `digest_head` its chain's first link and `digest_chain` its link
    after the last whole batch of rows (hex, see :mod:`.plan`), `kept_as` the context the rows were
    made under (:class:`~sheetbill.sheets.KeptRows`; empty when the output named none); `styles`: the
    cell formats the rows were rendered with (:func:`style_signature`); `head_end`/`head_size`:
    compressed end and uncompressed size of the head segment; `body_end`/`body_size`/`body_crc`:
    compressed end, uncompressed size and CRC-32 of the middle segment, `body_zcrc` the CRC-32 of its
    compressed bytes; `crc`/`size`/`zsize`: the whole entry's CRC-32, size and compressed size as
    written.
    """

    rows: int
    digest: str
    digest_head: str
    digest_chain: str
    kept_as: str
    styles: str
    head_end: int
    head_size: int
    body_end: int
    body_size: int
    body_crc: int
    body_zcrc: int
    crc: int
    size: int
    zsize: int

    def comment(self) -> bytes:
        """The mark as a zip entry comment: a magic prefix, JSON, and a checksum of the JSON."""
        text = json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)
        return _MAGIC + text.encode("ascii") + b" " + _checksum(text).encode("ascii")


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_SUM_LENGTH]


def style_signature(styles: StyleIds) -> str:
    """The cell formats data rows are rendered with, as a short text to compare."""
    return ",".join(f"{kind}={index}" for kind, index in sorted(styles.kinds.items()))


def read_mark(info: zipfile.ZipInfo | None) -> AppendMark | None:
    """The mark in a sheet part's zip entry comment, when there is one that is intact and agrees
    with the entry (deflated, same CRC-32 and sizes as written, segments inside the data)."""
    if info is None or not info.comment.startswith(_MAGIC) or info.compress_type != zipfile.ZIP_DEFLATED:
        return None
    text, _, checksum = info.comment[len(_MAGIC):].decode("ascii", "replace").rpartition(" ")
    if _checksum(text) != checksum:
        return None
    try:
        fields = json.loads(text)
        mark = AppendMark(**fields)
    except (ValueError, TypeError):
        return None
    if not all(isinstance(value, int) and value >= 0 for name, value in fields.items() if name not in _TEXTS) \
            or not all(isinstance(fields[name], str) for name in _TEXTS) \
            or not all(_HEX_LINK.fullmatch(fields[name]) for name in ("digest_head", "digest_chain")):
        return None
    if (mark.crc, mark.size, mark.zsize) != (info.CRC, info.file_size, info.compress_size):
        return None
    if not (0 < mark.head_end <= mark.body_end <= mark.zsize and mark.head_size + mark.body_size <= mark.size):
        return None
    return mark


def body_intact(source: ZipSource, info: zipfile.ZipInfo, mark: AppendMark) -> bool:
    """Whether the part still holds the middle segment the mark describes: its compressed bytes
    have the recorded CRC-32, and the head and tail segments (a few kilobytes, inflated here) fold
    together with the recorded CRC-32 and size of the middle into the entry's CRC-32 and size -- so
    the copied rows carry the right CRC into the new entry even if the mark lies about them."""
    try:
        zcrc = 0
        for chunk in source.raw_data(info, mark.head_end, mark.body_end):
            zcrc = zlib.crc32(chunk, zcrc)
        if zcrc != mark.body_zcrc:
            return False
        head = zlib.decompressobj(-zlib.MAX_WBITS)
        head_data = b"".join(head.decompress(chunk) for chunk in source.raw_data(info, 0, mark.head_end))
        tail = zlib.decompressobj(-zlib.MAX_WBITS)
        tail_data = b"".join(tail.decompress(chunk) for chunk in source.raw_data(info, mark.body_end))
    except zlib.error:
        return False
    tail_size = info.file_size - mark.head_size - mark.body_size
    if head.eof or len(head_data) != mark.head_size or not tail.eof or tail.unused_data or len(tail_data) != tail_size:
        return False
    crc = crc32_combine(crc32_combine(zlib.crc32(head_data), mark.body_crc, mark.body_size), zlib.crc32(tail_data),
                        tail_size)
    return crc == info.CRC


def reused_body(source: ZipSource, info: zipfile.ZipInfo, mark: AppendMark) -> RawSegment:
    """The compressed middle segment of an existing part, to copy into the extended one."""
    return RawSegment(source.raw_data(info, mark.head_end, mark.body_end), mark.body_crc, mark.body_size)


def new_mark(rows: int, digest: str, chain: tuple[bytes, bytes], kept_as: str, styles: StyleIds,
             deflated: Deflated) -> AppendMark:
    """The mark for a part just written in three segments (head, rows, tail); ``chain``: the plan
    digest chain's first link and its link after the last whole batch of rows."""
    head, body = deflated.flush_points
    return AppendMark(
        rows=rows, digest=digest, digest_head=chain[0].hex(), digest_chain=chain[1].hex(), kept_as=kept_as,
        styles=style_signature(styles),
        head_end=head.offset, head_size=head.size,
        body_end=body.offset, body_size=body.segment_size, body_crc=body.segment_crc,
        body_zcrc=body.segment_zcrc,
        crc=deflated.crc, size=deflated.size, zsize=deflated.compressed_size,
    )
