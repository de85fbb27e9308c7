"""The run memo: what a run keeps for the next run of the same workbook, and where it is kept.

A run is a pure function of the workbook and the as-of date (:mod:`sheetbill.run`), and most of a
workbook is the same from one run to the next: yesterday's charges, payments and issued history.
The memo lets a run skip work whose inputs it can prove unchanged: the typed rows of every block of
rows whose raw cells are those of the last run (:mod:`sheetbill.rowmemo`), and, under
:attr:`RunMemo.extras`, whatever other stages keep. Everything in it is keyed by a digest of what it
was computed from, so a memo can make a run faster but never change what the run writes.

The store is one file per workbook in the user's cache folder (:func:`cache_dir`), named by a hash
of the workbook's resolved path. The file starts with a header holding the format version and the
**code fingerprint** (:func:`code_fingerprint`: sheetbill's own source files and the installed
plugins' versions); a memo written by other code, a damaged or unreadable file, or one of another
format is ignored and the run computes everything; so is a file that is not the user's own or that
others may write. It is the user's own cache, like pip's or mypy's (the file is readable by its
owner only): deleting it is always safe and costs only time. ``SHEETBILL_CACHE=off`` (or the command
line's ``--no-cache``) turns it off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pickle
import re
import stat
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, BinaryIO

from .files import write_atomic
from .records import rebuilt

#: The layout of a memo file; a file of another version is ignored. After the header line: the length of
#: the index (8 bytes), the index (a pickle of the extras and each block's key, length and checksum), the
#: blocks.
FORMAT = 2
_MAGIC = b"sheetbill-run-memo\n"
#: Days after which a memo no run has saved is removed (by the next save of any workbook's memo).
KEEP_DAYS = 45
_MEMO_NAME = re.compile(r"[0-9a-f]{40}\.memo")


@dataclass
class RunMemo:
    """The state a run keeps for the next run of the same workbook.

    Attributes:
        tables: the parsed rows of every block of every input and history table this run read, by the
            block's key (see :mod:`sheetbill.rowmemo`); a run replaces it with the blocks it saw. A
            block is packed (:func:`pack`, or a :class:`StoredBlock` still in the file) until a run
            uses it, so the blocks a run does not change are neither unpacked nor packed again when
            it saves the memo.
        extras: what other stages keep, each under its own name (e.g. the adjudication).
        own: what a run keeps in its memo for its own later stages, each under its own name (what its read
            computed that its handover goes on from); never saved.
    """

    tables: dict[bytes, object] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)
    own: dict[str, object] = field(default_factory=dict)


def pack(value: object) -> bytes:
    """``value`` as bytes for the memo file (:func:`unpack` gives it back): a pickle in which a record
    (a frozen dataclass with slots, such as :class:`~sheetbill.models.Charge`) is rebuilt from its field
    values as the readers build records (:func:`sheetbill.records.rebuilt`: a fifth of what its frozen
    ``__init__`` costs, which is itself a third of the general way)."""
    buffer = io.BytesIO()
    _RecordPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def unpack(data: bytes) -> Any:
    """The value :func:`pack` made ``data`` of."""
    return pickle.loads(data)  # noqa: S301 - the user's own cache folder, see the module docstring


#: Per class: a getter of all its fields in order, or False when it is no record (pickled the usual way).
_FIELDS: dict[type, Any] = {}


def _record_fields(cls: type) -> Any:
    """A getter of the fields of a record class (a dataclass with slots whose fields all go to its
    ``__init__``, in order), else False."""
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        return False
    names = [f.name for f in dataclasses.fields(cls)]
    if len(names) < 2 or not all(f.init for f in dataclasses.fields(cls)):
        return False
    return attrgetter(*names)


class _RecordPickler(pickle.Pickler):
    """A pickler that writes a record as its class and field values (see :func:`pack`)."""

    def reducer_override(self, obj: object) -> Any:
        cls = type(obj)
        getter = _FIELDS.get(cls)
        if getter is None:
            getter = _FIELDS[cls] = _record_fields(cls)
        return (rebuilt, (cls, getter(obj))) if getter else NotImplemented


class _BlockFile:
    """The open memo file blocks are read from (one per loaded memo)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def read(self, offset: int, length: int) -> bytes:
        self.stream.seek(offset)
        data = self.stream.read(length)
        if len(data) != length:
            raise ValueError("the memo file ends early")
        return data

    def close(self) -> None:
        self.stream.close()

    def __del__(self) -> None:  # a parked file (see park) whose memo is let go unsaved
        self.stream.close()


def _checksum(data: bytes) -> int:
    """The checksum of a block in the memo file: the CRC-32 zip files use (a block damaged on disk or cut
    short is parsed again, never taken for another value). The keys of blocks are digests of their
    inputs (:mod:`sheetbill.rowmemo`); this only guards the bytes, and reading every block of a large
    memo runs it over hundreds of megabytes, several times faster than a cryptographic hash."""
    return zlib.crc32(data)


class StoredBlock:
    """A block of the memo that stays in its file until a run uses it (:meth:`read`); pickled, it is
    its bytes."""

    __slots__ = ("checksum", "length", "offset", "source")

    def __init__(self, source: _BlockFile, offset: int, length: int, checksum: int):
        self.source, self.offset, self.length, self.checksum = source, offset, length, checksum

    def __len__(self) -> int:
        return self.length

    def read(self) -> bytes:
        """The block's bytes, as :func:`pack` made them (:class:`ValueError` when they are not those the
        memo's index lists, :class:`OSError` when the file cannot give them)."""
        data = self.raw()
        if _checksum(data) != self.checksum:
            raise ValueError("a block of the memo file is damaged")
        return data

    def raw(self) -> bytes:
        """The block's bytes as the file holds them, not checked: for copying it with its checksum into
        the next memo, whose reader checks them."""
        return self.source.read(self.offset, self.length)

    def __reduce__(self) -> tuple:
        return bytes, (self.read(),)


def park(memo: RunMemo) -> int:
    """Pack the blocks ``memo`` holds as objects (those the run parsed anew) into a temporary file now,
    each replaced by a :class:`StoredBlock` of it, which :meth:`MemoStore.save` copies as it copies the
    blocks of the last memo; return how many. The file is gone when closed: by the save, or when the
    memo is let go.

    A run holds the records of the blocks it parsed until its memo is saved, after writing: in a first
    run, every charge. Parked after issuing, they are let go with the charges, and the stages after
    issuing (the accounts, writing, handing over what was written) use the memory they took."""
    fresh = [key for key, block in memo.tables.items() if not isinstance(block, (bytes, StoredBlock))]
    if not fresh:
        return 0
    source = _BlockFile(tempfile.TemporaryFile())  # noqa: SIM115 - closed by the save or with the memo
    stream = source.stream
    for key in fresh:
        data = pack(memo.tables[key])
        memo.tables[key] = StoredBlock(source, stream.tell(), len(data), _checksum(data))
        stream.write(data)
    stream.flush()
    return len(fresh)


def memo_enabled() -> bool:
    """False when ``SHEETBILL_CACHE`` says off (``off``, ``0``, ``no``, ``false``)."""
    return os.environ.get("SHEETBILL_CACHE", "").strip().casefold() not in {"off", "0", "no", "false"}


def cache_dir() -> Path:
    """The folder of sheetbill's cache: ``$SHEETBILL_CACHE_DIR``, else ``$XDG_CACHE_HOME/sheetbill``, else
    ``~/.cache/sheetbill`` (on Windows ``%LOCALAPPDATA%\\sheetbill\\cache``)."""
    if folder := os.environ.get("SHEETBILL_CACHE_DIR"):
        return Path(folder)
    if sys.platform == "win32" and (local := os.environ.get("LOCALAPPDATA")):
        return Path(local) / "sheetbill" / "cache"
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "sheetbill"
    return Path.home() / ".cache" / "sheetbill"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the bytes of sheetbill's own source files (computed once per process): a memo written
    by other code is never used, whatever its version number says."""
    root = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _own_private_file(found: os.stat_result) -> bool:
    """True for a regular file of this user that no one else may write (on Windows: any regular file):
    a memo is only read from a file its user alone could have written."""
    if not stat.S_ISREG(found.st_mode):
        return False
    if not hasattr(os, "getuid"):
        return True
    return found.st_uid == os.getuid() and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class MemoStore:
    """The memo file of one workbook: :meth:`load` the last run's memo, :meth:`save` this run's.

    :param workbook: the workbook file (its resolved path names the memo; the path itself is not stored).
    :param plugins: the installed plugins and their versions, as text: part of the fingerprint.
    :param folder: the cache folder (default :func:`cache_dir`).
    """

    def __init__(self, workbook: Path, plugins: str = "", folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else cache_dir()
        name = hashlib.blake2b(str(Path(workbook).resolve()).encode(), digest_size=20).hexdigest()
        self.path = self.folder / f"{name}.memo"
        self.fingerprint = hashlib.blake2b(f"{code_fingerprint()}|{plugins}".encode(), digest_size=16).hexdigest()
        self._source: _BlockFile | None = None

    def _header(self) -> bytes:
        return _MAGIC + json.dumps({"format": FORMAT, "code": self.fingerprint}).encode() + b"\n"

    def load(self) -> RunMemo | None:
        """The memo the last run of this workbook saved; None when there is none or it cannot be used
        (other code, another format, damaged, unreadable): the run then computes everything.

        Only the extras and the index of blocks are read; each block stays in the file
        (:class:`StoredBlock`) until a run uses it, so a large memo costs no memory while it waits.
        """
        header = self._header()
        stream = None
        try:
            stream = open(self.path, "rb")  # noqa: SIM115 - kept open for the blocks, closed by save()
            if not _own_private_file(os.fstat(stream.fileno())) or stream.read(len(header)) != header:
                stream.close()
                return None
            size = int.from_bytes(stream.read(8), "big")
            index = pickle.loads(stream.read(size))  # noqa: S301 - the user's own cache folder (module docstring)
            extras, blocks = index["extras"], index["blocks"]
            if not isinstance(extras, dict):
                raise ValueError("not a run memo")
            source = self._source = _BlockFile(stream)
            tables: dict[bytes, object] = {}
            offset = len(header) + 8 + size
            for key, length, checksum in blocks:
                tables[key] = StoredBlock(source, offset, length, checksum)
                offset += length
            if offset != os.fstat(stream.fileno()).st_size:
                raise ValueError("the memo file is not as long as its index says")
        except Exception:  # noqa: BLE001 - whatever is wrong with a cache file, the run goes on without it
            if stream is not None:
                stream.close()
            return None
        return RunMemo(tables, extras)

    def save(self, memo: RunMemo) -> bool:
        """Keep ``memo`` for the next run (atomically, replacing the last one); False when the cache
        folder cannot be written (the next run then computes everything, nothing else changes).

        Blocks a run took from the last memo unchanged are copied from its file, never unpacked or
        packed again. The others are packed one at a time into a temporary file in the cache folder, so
        a large memo is never held packed in memory as a whole. Saving is the last use of ``memo``: its
        blocks left in the old file are gone after.
        """
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder) as spill:  # mode 600, gone when closed
                listed, pieces = self._spill(memo, spill)
                index = pickle.dumps({"extras": memo.extras, "blocks": listed}, protocol=pickle.HIGHEST_PROTOCOL)
                header = self._header() + len(index).to_bytes(8, "big") + index
                sources = {piece.source for piece in pieces if isinstance(piece, StoredBlock)}

                def content(stream: BinaryIO) -> None:
                    stream.write(header)
                    for piece in pieces:
                        if isinstance(piece, StoredBlock):
                            stream.write(piece.raw())
                        else:
                            spill.seek(piece[0])
                            stream.write(spill.read(piece[1]))
                    for source in sources:  # closed before the new file replaces the old (Windows needs it)
                        source.close()

                write_atomic(self.path, content, expected_size=len(header) + sum(length for _, length, _ in listed))
            os.chmod(self.path, 0o600)  # it holds the workbook's data: for its owner only
        except (OSError, ValueError, pickle.PicklingError):
            return False
        self._prune()
        return True

    @staticmethod
    def _spill(memo: RunMemo, spill: BinaryIO) -> tuple[list[tuple[bytes, int, int]], list]:
        """Every block of ``memo`` as (key, length, checksum) for the index, and where its bytes are: a
        :class:`StoredBlock` of the last memo, or (offset, length) in ``spill``, where each other block
        is packed, one at a time."""
        listed: list[tuple[bytes, int, int]] = []
        pieces: list = []
        for key, block in memo.tables.items():
            if isinstance(block, StoredBlock):
                listed.append((key, block.length, block.checksum))
                pieces.append(block)
                continue
            data = block if isinstance(block, bytes) else pack(block)
            pieces.append((spill.tell(), len(data)))
            listed.append((key, len(data), _checksum(data)))
            spill.write(data)
        return listed, pieces

    def close(self) -> None:
        """Close the file of the memo :meth:`load` gave (its blocks not read by then cannot be any more)."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def _prune(self) -> None:
        """Remove the memos of other workbooks that no run saved for :data:`KEEP_DAYS` days (workbooks
        moved, renamed or deleted): the folder does not grow without end."""
        oldest = time.time() - KEEP_DAYS * 86400
        for other in self.folder.glob("*.memo"):
            try:
                if other != self.path and _MEMO_NAME.fullmatch(other.name) and other.stat().st_mtime < oldest:
                    other.unlink()
            except OSError:
                continue
