"""Making a workbook's documents: build them, write those without a file yet, gather the letters.

:func:`make_documents` is what a front end calls for ``sheetbill documents``: it does the work and
returns a :class:`DocumentsOutcome` to present; the command line prints it the way the
command line always has. :func:`button` is the Excel "Make documents" button
(:mod:`sheetbill.buttons` finds it by name). :func:`prepare` and :func:`render_documents` are the
two steps, for callers that send right after (:mod:`sheetbill.sending`) or test one of them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..book import Book, load_book
from ..cells import COERCERS, CellError
from ..plugins.manager import Plugins
from ..problems import ConfigurationError, Problem, error
from ..sheets import RawSheet
from .build import build_documents
from .config import setting
from .delivery import delivery_of
from .fonts import FontSet
from .model import Document, DocumentBatch, default_out_dir
from .output import KEPT, NEW, UNCHANGED, WriteReport, write_documents, write_print_file
from .reminder import replaced_reminders
from .templates import Templates

#: How many Problems the button's message lists (the rest are counted).
BUTTON_PROBLEMS = 10


@dataclass
class DocumentSet:
    """A workbook's documents, ready to write or send.

    Attributes:
        book: the workbook's history as read.
        templates, fonts: what the documents are worded and set in.
        batch: the documents, and the Problems of those that could not be made.
        out_dir: where their files go.
        problems: the Problems found so far (building; sending adds its own).
    """

    book: Book
    templates: Templates
    fonts: FontSet
    batch: DocumentBatch
    out_dir: Path
    problems: list[Problem] = field(default_factory=list)

    @property
    def documents(self) -> list[Document]:
        """The documents that can be made."""
        return self.batch.documents


def prepare(sheets: Mapping[str, RawSheet], workbook: Path, out_dir: Path | None = None,
            as_of: dt.date | None = None, *, fonts: FontSet | None = None, book: Book | None = None,
            plugins: Plugins | None = None) -> DocumentSet:
    """Read the workbook's history and build all its documents (nothing is written yet).

    :param sheets: the workbook's sheets as a front end read them.
    :param workbook: the workbook's path (templates and the default output folder are relative to it).
    :param out_dir: where documents go (default ``<workbook stem> documents`` beside the workbook).
    :param fonts: the fonts to use (default: discovered; tests pass a reduced set).
    :param book: an already loaded Book (e.g. ``RunResult.book`` right after a billing run).
    :param plugins: the plugin facade (default: built-ins plus installed plugins), for payer invoice fields.
    """
    if book is None:
        book, _ = load_book(sheets, as_of=as_of)
    templates = templates_for(book, workbook)
    fonts = fonts or FontSet.discover(templates.fonts_dir)
    batch = build_documents(book, templates, fonts, plugins if plugins is not None else Plugins())
    return DocumentSet(book, templates, fonts, batch, out_dir or default_out_dir(workbook), list(batch.problems))


def templates_for(book: Book, workbook: Path) -> Templates:
    """The templates of the workbook's language, with the office's folder (Settings Document Templates,
    relative to the workbook's folder) laid over the shipped ones."""
    settings = book.settings
    folder = setting(settings, "Document Templates")
    office = (workbook.parent / str(folder)).resolve() if folder else None
    return Templates.load(settings.language, office, settings_rows=settings.rows)


#: Why a document is not due to go out: dated before Settings Send Documents From.
BEFORE_SEND_FROM = "dated before Send Documents From"


def not_due(documents: DocumentSet) -> dict[str, str]:
    """Per document key, why it is not due to be sent now although it exists: dated before Settings Send
    Documents From, or a reminder replaced by a later one or by the hand-off to the collection agency
    (:func:`.reminder.replaced_reminders`). ``documents`` and ``send`` both leave these out of the post;
    their files are still made (they are history). An unreadable Send Documents From is a Problem."""
    why = replaced_reminders(documents.book)
    since = setting(documents.book.settings, "Send Documents From")
    if since is not None and not isinstance(since, dt.date):
        try:
            since = COERCERS["date"](since)
        except CellError:
            problem = error(f"Send Documents From {since!r} is not a date", "Settings",
                            documents.book.settings.rows.get("senddocumentsfrom"), "Value", code="bad-setting")
            if problem not in documents.problems:
                documents.problems.append(problem)
            return {d.key: BEFORE_SEND_FROM for d in documents.documents}
    if since is not None:
        why.update({d.key: BEFORE_SEND_FROM for d in documents.documents if d.date < since and d.key not in why})
    return why


def render_documents(documents: DocumentSet, *, day: dt.date) -> tuple[WriteReport, Path | None]:
    """Write every document without a file yet, and the print file of the new ones that go by letter and
    are due to be sent now (:func:`not_due` says which are not; ``report.held`` counts them)."""
    report = write_documents(documents.documents, documents.out_dir, documents.fonts, documents.batch.einvoices)
    held = not_due(documents)
    letters = []
    for written in report.by_status(NEW):
        delivery, _ = delivery_of(written.document, documents.book)
        if delivery is not None and delivery.channel == "letter":
            if written.document.key in held:
                report.held[written.document.key] = held[written.document.key]
            else:
                letters.append(written.path)
    return report, write_print_file(letters, documents.out_dir, day.isoformat())


@dataclass
class DocumentsOutcome:
    """What making a workbook's documents did, for a front end to present.

    Attributes:
        workbook, out_dir: the workbook and the folder its documents are in.
        written: the files written by this run.
        unchanged: documents whose file already says the same.
        kept: documents whose file says something else than the workbook now does (left as issued).
        skipped: per document key, why it was not made (the Problems say more).
        print_file: the print file of this run's new letters, if any.
        held: per new letter left out of the print file, why it is not due to go out (:func:`not_due`).
        problems: what was wrong, building and writing.
    """

    workbook: Path
    out_dir: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    print_file: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)

    def held_summary(self) -> str:
        """How many new letters were left out of the print file and why (``""`` for none)."""
        return held_summary(self.held)

    @property
    def exit_code(self) -> int:
        """0 when every document could be made, 1 when some could not (an error among the Problems)."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0

    def summary(self) -> str:
        """A few lines for a message box: the counts, the print file, then the first Problems."""
        lines = [f"Documents in {self.out_dir}: {len(self.written)} written, {len(self.unchanged)} unchanged."]
        if self.kept:
            lines.append(f"{len(self.kept)} kept as issued (the workbook now says something else).")
        if self.skipped:
            lines.append(f"{len(self.skipped)} not made (see the problems).")
        if self.print_file is not None:
            lines.append(f"Print file for letters: {self.print_file.name}")
        if self.held:
            lines.append(f"Not in the print file: {self.held_summary()}.")
        lines += [f"- {problem}" for problem in self.problems[:BUTTON_PROBLEMS]]
        if len(self.problems) > BUTTON_PROBLEMS:
            lines.append(f"... and {len(self.problems) - BUTTON_PROBLEMS} more problems")
        return "\n".join(lines)


def held_summary(held: Mapping[str, str]) -> str:
    """``3 (2 a later reminder replaces it, 1 dated before Send Documents From)``, or ``""`` for none."""
    if not held:
        return ""
    counts = Counter(held.values())
    return f"{len(held)} (" + ", ".join(f"{n} {why}" for why, n in sorted(counts.items())) + ")"


def make_documents_from(sheets: Mapping[str, RawSheet], workbook: Path, out: Path | None = None,
                        as_of: dt.date | None = None, *, plugins: Plugins | None = None) -> DocumentsOutcome:
    """Render every document of ``sheets`` that has no file yet (see :func:`make_documents`)."""
    documents = prepare(sheets, workbook, out, as_of, plugins=plugins)
    day = as_of or documents.book.settings.as_of
    report, print_file = render_documents(documents, day=day)
    files = [*report.written, *report.extras]
    return DocumentsOutcome(
        workbook, documents.out_dir, written=[w.path for w in files if w.status == NEW],
        unchanged=[w.path for w in files if w.status == UNCHANGED], kept=[w.path for w in files if w.status == KEPT],
        skipped=dict(documents.batch.skipped), print_file=print_file,
        problems=documents.problems + report.problems, held=dict(report.held))


def make_documents(workbook: Path, out: Path | None = None, as_of: dt.date | None = None) -> DocumentsOutcome:
    """Render every document of the workbook file that has no file yet, into ``out`` (default
    ``<workbook stem> documents`` beside it), and the print file of the new letters.

    :raises sheetbill.problems.ConfigurationError: for broken configuration (nothing is written).
    """
    from ..io.xlsx import read_workbook

    return make_documents_from(read_workbook(workbook), workbook, out, as_of)


@dataclass(frozen=True)
class ButtonAnswer:
    """What the "Make documents" button tells the clerk.

    Attributes:
        text: the message box text (also ``str()`` of the answer).
        ok: whether the documents could be made (some may still have Problems).
        outcome: what was made, when anything was attempted.
    """

    text: str
    ok: bool
    outcome: DocumentsOutcome | None = None

    def __str__(self) -> str:
        return self.text


def button(sheets: Mapping[str, RawSheet], *, workbook: Path | None = None,
           as_of: dt.date | None = None) -> ButtonAnswer:
    """The Excel "Make documents" button: render the documents next to the workbook.

    Nothing is written to the workbook itself. Without the workbook's path (a front end that cannot
    tell where the file is) nothing is made and the answer says how to make them instead.
    """
    return answer_button("documents", "Making documents from here is not available yet", "sheetbill documents",
                         workbook, lambda: make_documents_from(sheets, workbook, None, as_of))


def answer_button(noun: str, unavailable: str, command: str, workbook: Path | None,
                  make: Callable[[], DocumentsOutcome]) -> ButtonAnswer:
    """What a button that writes PDFs beside the workbook answers: its outcome's summary, why nothing
    could be made (the workbook's location is unknown, or the configuration is broken)."""
    if workbook is None:
        return ButtonAnswer(f"{unavailable}: they are written to a folder beside the workbook, and this workbook's "
                            "location is not known (a new, unsaved workbook, or one opened from the web). Save it on "
                            f"this computer and press the button again, or run `{command} WORKBOOK`. Nothing was "
                            "changed.", ok=False)
    try:
        outcome = make()
    except ConfigurationError as err:
        lines = [f"No {noun} were made: {err}"]
        lines += [f"- {problem}" for problem in err.problems[:BUTTON_PROBLEMS]]
        return ButtonAnswer("\n".join(lines), ok=False)
    return ButtonAnswer(outcome.summary(), ok=True, outcome=outcome)
