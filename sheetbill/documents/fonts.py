"""Which fonts documents are set in, and whether a text can be shown with them at all.

Documents embed their fonts, so a PDF looks the same on every machine. The body font is Open
Sans (package ``ttf-opensans``: Latin with all European accents and ``Ł``, Greek, Cyrillic).
Characters it lacks are taken from *fallback* fonts, tried in order:

1. fonts an office puts into ``fonts/`` of its own template folder (``.ttf`` or ``.otf``);
2. Noto Sans CJK (package ``noto-cjk-sans-jp-regular``: Chinese, Japanese and Korean), when installed;
3. Noto Sans JP (package ``pylopdf-fonts-jp``), when installed.

A text with a character no font has would print as empty boxes ("tofu"), and right-to-left or
combining scripts would print in the wrong order without a text shaper. Such text is never
rendered: :meth:`FontSet.unrenderable` names the characters, and the caller turns them into a
Problem on the cell the text came from.
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Optional packages with fallback fonts: (module, file name pattern inside it).
FALLBACK_PACKAGES: tuple[tuple[str, str], ...] = (
    ("noto_cjk_sans_jp_regular", "*.otf"),
    ("pylopdf_fonts_jp", "NotoSansJP-Regular.otf"),
)

#: What to install for characters no font has, for the Problem message.
FALLBACK_HINT = "install a font that has them (pip install noto-cjk-sans-jp-regular for Chinese, Japanese and " \
                "Korean) or put a .ttf/.otf font into the fonts folder of the document templates"


@dataclass(frozen=True)
class Face:
    """One font file and the characters it has."""

    name: str
    path: Path
    chars: frozenset[int]

    def has(self, char: str) -> bool:
        """True when the font has a glyph for ``char``."""
        return ord(char) in self.chars


@lru_cache(maxsize=64)
def load_face(path: Path) -> Face:
    """Read the character map of a font file (cached: a CJK font's map takes ~0.1 s)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        chars = frozenset(font.getBestCmap() or {})
    return Face(path.stem, path, chars)


def clean_text(text: str) -> str:
    """``text`` as documents print it: NFC-composed (``u`` + combining diaeresis becomes ``ü``), tabs
    as spaces, other control and format characters dropped (they would print as boxes)."""
    text = unicodedata.normalize("NFC", text).replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))


def _package_fonts() -> list[Path]:
    paths: list[Path] = []
    for module_name, pattern in FALLBACK_PACKAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        folder = Path(module.__file__).parent
        paths.extend(sorted(folder.glob(pattern)))
    return paths


@dataclass(frozen=True)
class FontSet:
    """The body font (regular and bold) and the fallbacks, in the order they are tried."""

    regular: Face
    bold: Face
    fallbacks: tuple[Face, ...] = ()

    @classmethod
    def discover(cls, extra_dir: Path | None = None, *, packages: bool = True) -> FontSet:
        """The body font plus fallbacks from ``extra_dir`` (an office's ``fonts/`` folder) and, unless
        ``packages`` is false, from the optional font packages that are installed."""
        import ttf_opensans

        paths: list[Path] = []
        if extra_dir is not None and extra_dir.is_dir():
            paths.extend(sorted(p for p in extra_dir.iterdir() if p.suffix.lower() in (".ttf", ".otf")))
        if packages:
            paths.extend(_package_fonts())
        regular = load_face(Path(ttf_opensans.OPENSANS_REGULAR.path))
        bold = load_face(Path(ttf_opensans.OPENSANS_BOLD.path))
        return cls(regular, bold, tuple(load_face(p) for p in paths))

    def unrenderable(self, text: str) -> list[str]:
        """The characters of ``text`` (cleaned) that cannot be printed correctly, in order of appearance:
        those no font has, right-to-left letters and combining marks (both need a text shaper)."""
        bad: list[str] = []
        for ch in clean_text(text):
            if ch in bad or ch.isspace():
                continue
            shaped = unicodedata.bidirectional(ch) in ("R", "AL") or unicodedata.category(ch) in ("Mn", "Mc")
            if shaped or not (self.regular.has(ch) or any(face.has(ch) for face in self.fallbacks)):
                bad.append(ch)
        return bad

    def fallbacks_for(self, text: str) -> tuple[Face, ...]:
        """The fallback fonts a document with ``text`` needs: only those that supply a character the
        body font lacks, so a document's bytes do not depend on which fonts happen to be installed."""
        needed: list[Face] = []
        missing = {ch for ch in clean_text(text) if not ch.isspace() and not self.regular.has(ch)}
        for face in self.fallbacks:
            supplied = {ch for ch in missing if face.has(ch)}
            if supplied:
                needed.append(face)
                missing -= supplied
        return tuple(needed)
