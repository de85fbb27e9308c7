"""Deflating new parts on a second thread, in segments that a later write can extend.

A part is handed over as a stream of byte chunks with two kinds of markers between them:

* :data:`FLUSH` ends a segment: the compressor is flushed with ``Z_FULL_FLUSH`` (byte-aligned, no
  back-reference into what came before) and a fresh compressor carries on. :func:`deflate_in_background`
  reports where each flush point lies -- compressed offset, uncompressed size and the CRC-32 of the
  segment -- so a later write can copy the compressed bytes of a segment verbatim;
* :class:`RawSegment` is such a copied segment: compressed bytes written as they are, with the CRC-32
  and length of what they inflate to, folded into the part's CRC with :func:`crc32_combine`.

The result is one valid raw deflate stream (only its last block is marked final), which every zip
reader inflates as usual.
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

#: Deflate level of new parts: level 1 was fastest end to end when measured (level 6 is about 17 %
#: smaller and slower).
LEVEL = 1


class _Flush:
    """The type of :data:`FLUSH`."""

    def __repr__(self) -> str:
        return "FLUSH"


#: A marker in a chunk stream: end the current segment with a full flush point.
FLUSH = _Flush()


@dataclass(frozen=True)
class RawSegment:
    """Already compressed data to put into the stream verbatim, right after a flush point.

    `chunks` are the compressed bytes (a run of complete, non-final deflate blocks ending at a flush
    point of the stream they came from); `crc` and `size` describe what they inflate to.
    """

    chunks: Iterable[bytes]
    crc: int
    size: int


@dataclass(frozen=True)
class FlushPoint:
    """Where a :data:`FLUSH` marker landed: `offset` into the compressed data, `size` of the data
    before it, and the CRC-32 and length of the segment it ends (the data since the previous flush
    point, or since the start); `segment_zcrc` is the CRC-32 of the segment's compressed bytes."""

    offset: int
    size: int
    segment_crc: int
    segment_size: int
    segment_zcrc: int


@dataclass(frozen=True)
class Deflated:
    """A deflated part: CRC-32 and size of the whole uncompressed data, its compressed size and its
    flush points."""

    crc: int
    size: int
    compressed_size: int
    flush_points: tuple[FlushPoint, ...]


_CRC_POLY = 0xEDB88320  # CRC-32 (zlib, zip), reflected


def _multiply_mod_p(a: int, b: int) -> int:
    """``a * b`` modulo the CRC-32 polynomial (reflected bit order, as zlib's multmodp)."""
    product = 0
    mask = 1 << 31
    while True:
        if a & mask:
            product ^= b
            if (a & (mask - 1)) == 0:
                break
        mask >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1
    return product


#: x^(2^n) modulo the polynomial, for n = 0 .. 31 (zlib's x2n_table).
_X2N = [1 << 30]
for _ in range(31):
    _X2N.append(_multiply_mod_p(_X2N[-1], _X2N[-1]))


def crc32_combine(crc1: int, crc2: int, size2: int) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's algorithm).

    Python's :mod:`zlib` does not expose ``crc32_combine``; this costs a few dozen small integer
    operations per bit of `size2`, whatever the length of the data.
    """
    if size2 == 0:
        return crc1
    power = 1 << 31  # x^0
    bits, index = size2 * 8, 0  # multiply by x^(8 * size2), square by square
    while bits:
        if bits & 1:
            power = _multiply_mod_p(_X2N[index & 31], power)
        bits >>= 1
        index += 1
    return _multiply_mod_p(power, crc1) ^ crc2


_DONE = object()


class _Segmenter:
    """The compressing side: writes compressed data to the spool and keeps CRCs and flush points."""

    def __init__(self, spool: BinaryIO) -> None:
        self.spool = spool
        self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = self.size = 0
        self.segment_crc = self.segment_size = self.segment_zcrc = 0
        self.fresh = True  # nothing compressed since the last flush point (or the start)
        self.flush_points: list[FlushPoint] = []

    def data(self, chunk: bytes) -> None:
        self.crc = zlib.crc32(chunk, self.crc)
        self.segment_crc = zlib.crc32(chunk, self.segment_crc)
        self.size += len(chunk)
        self.segment_size += len(chunk)
        self._put(self.compressor.compress(chunk))
        self.fresh = False

    def _put(self, compressed: bytes) -> None:
        self.spool.write(compressed)
        self.segment_zcrc = zlib.crc32(compressed, self.segment_zcrc)

    def flush(self) -> None:
        if not self.fresh:
            self._put(self.compressor.flush(zlib.Z_FULL_FLUSH))
            self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
            self.fresh = True
        self.flush_points.append(FlushPoint(self.spool.tell(), self.size, self.segment_crc, self.segment_size,
                                            self.segment_zcrc))
        self.segment_crc = self.segment_size = self.segment_zcrc = 0

    def raw(self, segment: RawSegment) -> None:
        if not self.fresh:
            raise ValueError("a raw segment must follow a flush point")
        for chunk in segment.chunks:
            self._put(chunk)
        self.crc = crc32_combine(self.crc, segment.crc, segment.size)
        self.segment_crc = crc32_combine(self.segment_crc, segment.crc, segment.size)
        self.size += segment.size
        self.segment_size += segment.size

    def finish(self) -> Deflated:
        self._put(self.compressor.flush())
        return Deflated(self.crc, self.size, self.spool.tell(), tuple(self.flush_points))


def deflate_in_background(chunks: Iterable[bytes | _Flush | RawSegment], spool: BinaryIO) -> Deflated:
    """Deflate (level 1) ``chunks`` into ``spool`` on a second thread, honouring :data:`FLUSH` and
    :class:`RawSegment` markers; return the CRC-32, size and flush points.

    Rendering sheet XML is Python work that holds the GIL, while ``zlib`` releases it for large
    buffers, so compressing on another thread overlaps the two on a machine with two cores (at a
    million rows, compression alone is several seconds). The queue is bounded, so memory stays at a
    few chunks however large the sheet.
    """
    pending: queue.Queue = queue.Queue(maxsize=8)
    failure: list[BaseException] = []
    result: list[Deflated] = []

    def work() -> None:
        segmenter = _Segmenter(spool)
        try:
            while (chunk := pending.get()) is not _DONE:
                if chunk is FLUSH:
                    segmenter.flush()
                elif isinstance(chunk, RawSegment):
                    segmenter.raw(chunk)
                else:
                    segmenter.data(chunk)
            result.append(segmenter.finish())
        except BaseException as err:  # handed to the producing thread, which re-raises it
            failure.append(err)
            while pending.get() is not _DONE:  # drain so the producer never blocks
                pass

    worker = threading.Thread(target=work, name="sheetbill-deflate", daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
    finally:
        pending.put(_DONE)
        worker.join()
    if failure:
        raise failure[0]
    return result[0]
