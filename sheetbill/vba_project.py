"""A VBA project (``vbaProject.bin``) built from VBA source text, without Office.

Excel keeps a workbook's macros in ``xl/vbaProject.bin``: a Compound File (MS-CFB) holding the
streams of the Office VBA File Format (MS-OVBA). This module writes one from module sources, so the
macro-enabled workbook can be built on any machine from text kept in the repository:

* ``_VBA_PROJECT`` carries version ``0xFFFF`` and no performance cache, which MS-OVBA prescribes for
  interoperable writers: Excel then ignores compiled code and compiles the project from source the
  first time it opens the file (section 1.6 and 2.3.4.1 of MS-OVBA);
* ``dir`` describes the project and its modules (compressed), each module stream holds its source
  compressed with MS-OVBA's LZ77 variant (2.4.1), ``PROJECT`` is the text description with the
  obfuscated protection fields (2.4.3: not protected, no password, visible), ``PROJECTwm`` maps names;
* the container is an MS-CFB version 3 file with 512-byte sectors; streams under 4,096 bytes live in
  the mini stream, as the format requires.

The output is deterministic: the same sources always give the same bytes (no time stamps, the
project id and the obfuscation seeds derive from the sources), so a rebuilt workbook can be diffed.
Registry packages were considered: ``cfbwrite`` is AGPL (sheetbill is MIT) and ``ms-ovba`` was an
early 0.0.1 with four more dependencies; the formats are small enough to write here.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

# --- MS-OVBA compression (2.4.1) --------------------------------------------------------------------

_CHUNK = 4096


def compress(data: bytes) -> bytes:
    """``data`` as an MS-OVBA CompressedContainer: signature byte 0x01, then one chunk per 4,096 bytes."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        chunk = data[start: start + _CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= _CHUNK:
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3))  # compressed flag, signature 0b011, size
            out += body
        else:  # incompressible: a raw chunk always holds 4,096 bytes (padded, 2.4.1.3.10)
            out += struct.pack("<H", 0x3FFF) + chunk.ljust(_CHUNK, b"\x00")
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One chunk's token sequences: a flag byte, then up to eight literal bytes or copy tokens."""
    out = bytearray()
    recent: dict[bytes, list[int]] = {}
    pos, end = 0, len(chunk)
    while pos < end:
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= end:
                break
            offset, length = _longest_match(chunk, pos, recent)
            if length >= 3:
                bit_count = max((pos - 1).bit_length(), 4)  # ceil(log2(pos)), at least 4 (2.4.1.3.19.1)
                out += struct.pack("<H", ((offset - 1) << (16 - bit_count)) | (length - 3))
                out[flag_at] |= 1 << bit
                step = length
            else:
                out.append(chunk[pos])
                step = 1
            for p in range(pos, min(pos + step, end - 2)):
                recent.setdefault(chunk[p: p + 3], []).append(p)
            pos += step
    return bytes(out)


def _longest_match(chunk: bytes, pos: int, recent: dict[bytes, list[int]], tries: int = 64) -> tuple[int, int]:
    """(offset, length) of the longest earlier match of the bytes at ``pos`` (length 0 when none)."""
    candidates = recent.get(chunk[pos: pos + 3])
    if not candidates:
        return 0, 0
    bit_count = max((pos - 1).bit_length(), 4)
    limit = min((0xFFFF >> bit_count) + 3, len(chunk) - pos)
    best_offset, best_length = 0, 0
    for start in reversed(candidates[-tries:]):
        length = 0
        while length < limit and chunk[start + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_offset, best_length = pos - start, length
            if length == limit:
                break
    return best_offset, best_length


# --- MS-OVBA data encryption of the protection fields (2.4.3) --------------------------------------


def _obfuscate(project_id: str, data: bytes, seed: int) -> str:
    """The hex text of ``data`` encrypted as MS-OVBA 2.4.3.2 describes (for CMG, DPB and GC)."""
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ project_key])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, seed ^ project_key, seed ^ version
    ignored = [seed] * ((seed & 6) // 2)  # the "ignored" bytes: any value; Office repeats the seed
    for byte in [*ignored, *struct.pack("<I", len(data)), *data]:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return out.hex().upper()


# --- the project -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One VBA module.

    Attributes:
        name: the module name (``Sheetbill``, ``ThisWorkbook``, ``Sheet1``).
        code: its code, without ``Attribute`` lines (they are generated).
        document: True for a document module (the workbook's or a sheet's code-behind), whose
            name must equal the workbook's or sheet's ``codeName``.
        base: for document modules, the class of the document: ``workbook`` or ``worksheet``.
    """

    name: str
    code: str = ""
    document: bool = False
    base: str = "worksheet"


#: The protection fields' plain values: not protected, no password, visible (MS-OVBA 2.3.1.15-17).
_NOT_PROTECTED, _NO_PASSWORD, _VISIBLE = bytes(4), b"\x00", b"\xff"

_DOCUMENT_BASES = {
    "workbook": "0{00020819-0000-0000-C000-000000000046}",
    "worksheet": "0{00020820-0000-0000-C000-000000000046}",
}


def module_source(module: Module) -> str:
    """The module's stored source: its ``Attribute`` header, then the code, CRLF line ends."""
    lines = [f'Attribute VB_Name = "{module.name}"']
    if module.document:
        lines += [
            f'Attribute VB_Base = "{_DOCUMENT_BASES[module.base]}"',
            "Attribute VB_GlobalNameSpace = False",
            "Attribute VB_Creatable = False",
            "Attribute VB_PredeclaredId = True",
            "Attribute VB_Exposed = True",
            "Attribute VB_TemplateDerived = False",
            "Attribute VB_Customizable = True",
        ]
    code = [line for line in module.code.replace("\r\n", "\n").split("\n") if not line.startswith("Attribute VB_")]
    while code and not code[-1].strip():
        code.pop()
    return "\r\n".join(lines + code) + "\r\n"


@dataclass
class VbaProject:
    """A VBA project to write: its modules, in the order the editor lists them.

    Attributes:
        modules: the modules (document modules first is conventional).
        name: the project name shown in the VBA editor.
        codepage: the code page of names and source (1252: Western European; sources must be
            representable in it).
    """

    modules: list[Module] = field(default_factory=list)
    name: str = "VBAProject"
    codepage: int = 1252

    @property
    def _encoding(self) -> str:
        return f"cp{self.codepage}"

    def _text(self, text: str) -> bytes:
        return text.encode(self._encoding)

    def _digest(self) -> bytes:
        h = hashlib.sha256(self.name.encode())
        for module in self.modules:
            h.update(b"\0" + module.name.encode() + b"\0" + module_source(module).encode())
        return h.digest()

    @property
    def project_id(self) -> str:
        """The project's GUID, derived from its content so builds are reproducible."""
        return "{" + str(uuid.UUID(bytes=self._digest()[:16])).upper() + "}"

    def dir_stream(self) -> bytes:
        """The decompressed ``dir`` stream (MS-OVBA 2.3.4.2)."""
        def rec(record_id: int, data: bytes = b"") -> bytes:
            return struct.pack("<HI", record_id, len(data)) + data

        def u32(value: int) -> bytes:
            return struct.pack("<I", value)

        name = self._text(self.name)
        out = bytearray()
        out += rec(0x0001, u32(1))  # PROJECTSYSKIND: 32-bit Windows (Excel on any platform recompiles)
        out += rec(0x0002, u32(0x0409))  # PROJECTLCID
        out += rec(0x0014, u32(0x0409))  # PROJECTLCIDINVOKE
        out += rec(0x0003, struct.pack("<H", self.codepage))  # PROJECTCODEPAGE
        out += rec(0x0004, name)  # PROJECTNAME
        out += rec(0x0005) + rec(0x0040)  # PROJECTDOCSTRING (+ Unicode)
        out += rec(0x0006) + rec(0x003D)  # PROJECTHELPFILEPATH (two copies)
        out += rec(0x0007, u32(0))  # PROJECTHELPCONTEXT
        out += rec(0x0008, u32(0))  # PROJECTLIBFLAGS
        out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved=4, major, minor
        out += rec(0x000C) + rec(0x003C)  # PROJECTCONSTANTS (+ Unicode)
        # PROJECTREFERENCES: none; the VBA and Excel libraries are always there.
        out += struct.pack("<HIH", 0x000F, 2, len(self.modules))  # PROJECTMODULES
        out += struct.pack("<HIH", 0x0013, 2, 0xFFFF)  # PROJECTCOOKIE
        for module in self.modules:
            module_name = self._text(module.name)
            unicode_name = module.name.encode("utf-16-le")
            out += rec(0x0019, module_name)  # MODULENAME
            out += rec(0x0047, unicode_name)  # MODULENAMEUNICODE
            out += rec(0x001A, module_name) + rec(0x0032, unicode_name)  # MODULESTREAMNAME
            out += rec(0x001C) + rec(0x0048)  # MODULEDOCSTRING
            out += rec(0x0031, u32(0))  # MODULEOFFSET: the source starts the stream (no cache)
            out += rec(0x001E, u32(0))  # MODULEHELPCONTEXT
            out += rec(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
            out += struct.pack("<HI", 0x0022 if module.document else 0x0021, 0)  # MODULETYPE
            out += struct.pack("<HI", 0x002B, 0)  # module terminator
        out += struct.pack("<HI", 0x0010, 0)  # dir terminator
        return bytes(out)

    def project_stream(self) -> bytes:
        """The ``PROJECT`` stream (MS-OVBA 2.3.1): properties, host extender, workspace."""
        pid = self.project_id
        seeds = self._digest()[16:19]
        lines = [f'ID="{pid}"']
        for module in self.modules:
            lines.append(f"Document={module.name}/&H00000000" if module.document else f"Module={module.name}")
        lines += [
            f'Name="{self.name}"',
            'HelpContextID="0"',
            'VersionCompatible32="393222000"',
            f'CMG="{_obfuscate(pid, _NOT_PROTECTED, seeds[0])}"',
            f'DPB="{_obfuscate(pid, _NO_PASSWORD, seeds[1])}"',
            f'GC="{_obfuscate(pid, _VISIBLE, seeds[2])}"',
            "",
            "[Host Extender Info]",
            "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
            "",
            "[Workspace]",
        ]
        lines += [f"{module.name}=0, 0, 0, 0, C" for module in self.modules]
        return self._text("\r\n".join(lines) + "\r\n")

    def projectwm_stream(self) -> bytes:
        """The ``PROJECTwm`` stream: each module name in the code page and in UTF-16."""
        out = bytearray()
        for module in self.modules:
            out += self._text(module.name) + b"\x00" + module.name.encode("utf-16-le") + b"\x00\x00"
        return bytes(out + b"\x00\x00")

    def to_bytes(self) -> bytes:
        """The ``vbaProject.bin`` file."""
        names = [m.name.casefold() for m in self.modules]
        if len(set(names)) != len(names):
            raise ValueError("module names must be unique")
        vba = [Node("_VBA_PROJECT", b"\xcc\x61\xff\xff\x00\x01\x00"), Node("dir", compress(self.dir_stream()))]
        vba += [Node(m.name, compress(self._text(module_source(m)))) for m in self.modules]
        return write_compound_file([
            Node("VBA", children=vba),
            Node("PROJECT", self.project_stream()),
            Node("PROJECTwm", self.projectwm_stream()),
        ])


# --- MS-CFB version 3 writer -------------------------------------------------------------------------

_SECTOR = 512
_MINI = 64
_MINI_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class Node:
    """A stream (``data``) or a storage (``children``) of a compound file."""

    name: str
    data: bytes | None = None
    children: list[Node] | None = None

    @property
    def is_storage(self) -> bool:
        return self.children is not None


def _sibling_key(node: Node) -> tuple[int, str]:
    """MS-CFB 2.6.4: shorter names first, then by upper-cased name."""
    return len(node.name), node.name.upper()


def _tree(ids: Sequence[int], depth: int, out: dict[int, tuple[int, int, int]]) -> int:
    """Build a balanced binary search tree over ``ids`` (already sorted); record (left, right, depth)."""
    if not ids:
        return _NOSTREAM
    middle = len(ids) // 2
    left = _tree(ids[:middle], depth + 1, out)
    right = _tree(ids[middle + 1:], depth + 1, out)
    out[ids[middle]] = (left, right, depth)
    return ids[middle]


def write_compound_file(root_children: Sequence[Node]) -> bytes:
    """A compound file whose root storage holds ``root_children``.

    Siblings form a red-black tree as MS-CFB requires: a balanced search tree whose deepest level is
    red and every other node black, so every path has the same number of black nodes.
    """
    entries, child_of, links, colors = _directory_tree(root_children)
    mini, minifat, start_of, big = _mini_stream(entries)
    return _layout(entries, child_of, links, colors, mini, minifat, start_of, big)


def _directory_tree(root_children: Sequence[Node]
                    ) -> tuple[list[Node], dict[int, int], dict[int, tuple[int, int, int]], dict[int, int]]:
    """Every directory entry in id order, each storage's first child, sibling links and colours."""
    entries: list[Node] = [Node("Root Entry", children=list(root_children))]
    child_of: dict[int, int] = {}
    links: dict[int, tuple[int, int, int]] = {}
    colors: dict[int, int] = {}
    queue = [0]
    while queue:
        parent = queue.pop(0)
        children = sorted(entries[parent].children or [], key=_sibling_key)
        if len({_sibling_key(c) for c in children}) != len(children):
            raise ValueError(f"duplicate names in {entries[parent].name!r}")
        ids = list(range(len(entries), len(entries) + len(children)))
        entries.extend(children)
        tree: dict[int, tuple[int, int, int]] = {}
        child_of[parent] = _tree(ids, 0, tree)
        deepest = max((d for _, _, d in tree.values()), default=0)
        for node_id, (left, right, depth) in tree.items():
            links[node_id] = (left, right, depth)
            colors[node_id] = 0 if depth == deepest and depth > 0 else 1
        queue.extend(i for i in ids if entries[i].is_storage)
    return entries, child_of, links, colors


def _mini_stream(entries: list[Node]) -> tuple[bytearray, list[int], dict[int, int], list[int]]:
    """Small streams packed into the mini stream (with its FAT and each stream's start); the ids of
    the streams that go into regular sectors instead."""
    mini = bytearray()
    minifat: list[int] = []
    start_of: dict[int, int] = {}
    big: list[int] = []
    for index, node in enumerate(entries):
        if node.is_storage:
            continue
        data = node.data or b""
        if len(data) >= _MINI_CUTOFF:
            big.append(index)
            continue
        if not data:
            start_of[index] = _END
            continue
        first = len(mini) // _MINI
        count = -(-len(data) // _MINI)
        start_of[index] = first
        minifat += [first + i + 1 for i in range(count - 1)] + [_END]
        mini += data.ljust(count * _MINI, b"\x00")
    return mini, minifat, start_of, big


def _sectors(size: int) -> int:
    """Sectors needed for ``size`` bytes."""
    return -(-size // _SECTOR)


def _layout(entries: list[Node], child_of: dict[int, int], links: dict[int, tuple[int, int, int]],
            colors: dict[int, int], mini: bytearray, minifat: list[int], start_of: dict[int, int],
            big: list[int]) -> bytes:
    """Allocate sectors (FAT chains) and serialise header, FAT, directory, mini FAT and streams."""
    sectors = _sectors
    dir_sectors = sectors(len(entries) * 128)
    minifat_sectors = sectors(len(minifat) * 4)
    mini_sectors = sectors(len(mini))
    big_sectors = [sectors(len(entries[i].data or b"")) for i in big]
    used = dir_sectors + minifat_sectors + mini_sectors + sum(big_sectors)
    fat_sectors = 1
    while fat_sectors * (_SECTOR // 4) < used + fat_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound file too large for a header-only DIFAT")

    fat: list[int] = [_FATSECT] * fat_sectors
    next_sector = fat_sectors

    def chain(count: int) -> int:
        nonlocal next_sector
        if count == 0:
            return _END
        first = next_sector
        fat.extend([first + i + 1 for i in range(count - 1)] + [_END])
        next_sector += count
        return first

    dir_start = chain(dir_sectors)
    minifat_start = chain(minifat_sectors)
    mini_start = chain(mini_sectors)
    for index, count in zip(big, big_sectors, strict=True):
        start_of[index] = chain(count)
    fat += [_FREE] * (fat_sectors * (_SECTOR // 4) - len(fat))

    def entry(index: int) -> bytes:
        node = entries[index]
        encoded = node.name.encode("utf-16-le")
        if len(encoded) > 62:
            raise ValueError(f"name too long: {node.name!r}")
        left, right, _ = links.get(index, (_NOSTREAM, _NOSTREAM, 0))
        if index == 0:
            kind, start, size = 5, (mini_start if mini else _END), len(mini)
        elif node.is_storage:
            kind, start, size = 1, 0, 0
        else:
            kind, start, size = 2, start_of[index], len(node.data or b"")
        child = child_of.get(index, _NOSTREAM) if node.is_storage else _NOSTREAM
        return struct.pack("<64sHBBIII16sIQQIQ", encoded.ljust(64, b"\x00"), len(encoded) + 2, kind,
                           colors.get(index, 1), left, right, child, b"\x00" * 16, 0, 0, 0, start, size)

    directory = b"".join(entry(i) for i in range(len(entries)))
    unused = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"", 0, 0, 0, 0, 0)
    directory += unused * (dir_sectors * 4 - len(entries))
    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", 0x003E, 0x0003,
                         0xFFFE, 9, 6, b"", 0, fat_sectors, dir_start, 0, _MINI_CUTOFF,
                         minifat_start, minifat_sectors, _END, 0) + struct.pack("<109I", *difat)

    def padded(data: bytes) -> bytes:
        return data.ljust(sectors(len(data)) * _SECTOR, b"\x00")

    body = [struct.pack(f"<{len(fat)}I", *fat), padded(directory),
            padded(struct.pack(f"<{len(minifat)}I", *minifat)) if minifat else b"", padded(bytes(mini))]
    body += [padded(entries[i].data or b"") for i in big]
    return header + b"".join(body)
