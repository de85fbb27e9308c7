"""Writing a file so that it is either all there or not there at all, and one run per workbook.

Every file sheetbill writes (workbooks, the template, PDFs) goes through :func:`write_atomic`: the
new content goes to a temporary file in the target's folder (same file system, so the rename is
atomic), is flushed and fsynced, and is then renamed over the target. An interrupted write leaves
the previous file as it was. The backup (``<name>.bak``) is written the same way, so a failure while
copying it keeps the previous backup whole.

Before anything is written the target is checked: a read-only file is refused
(:class:`ReadOnlyError`), and the folder must have room for the new file and the backup
(:class:`NotEnoughSpaceError`). A symbolic link is written through (its target is replaced, the link
stays); the replaced file keeps its mode and, where the operating system allows, its owner.

:func:`workbook_lock` holds an exclusive lock (a lock file beside the workbook) for a run's whole
read, compute and write, so two runs on one workbook never both write; it also removes the temporary
files a killed run left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: What to write: the bytes, or a function that streams them into the open file.
Content = bytes | Callable[[BinaryIO], None]

#: Room kept free beyond the new file and the backup (file system metadata, the zip's growth).
SPACE_MARGIN = 1 << 20


class ReadOnlyError(PermissionError):
    """The file to replace is read-only: the clerk protected it, so sheetbill does not write it."""


class NotEnoughSpaceError(OSError):
    """The folder lacks room for the new file and its backup; nothing was written."""


class WorkbookBusyError(Exception):
    """Another sheetbill run holds the workbook's lock."""


def write_atomic(path: Path, content: Content, *, backup: bool = False, expected_size: int | None = None) -> None:
    """Write ``content`` to ``path`` through a fsynced temporary file renamed over the target.

    An existing file keeps its permissions and (where allowed) its owner; a new one gets those of
    any new file (the umask default; ``mkstemp`` alone would make it private). A symbolic link is
    followed: its target gets the new content. With ``backup``, once the new content is safely
    written, the previous file is kept as ``<name>.bak``, itself written atomically the same way
    (the previous backup stays until the new one is complete). The temporary files are removed on
    any failure, and the target is then untouched.

    Raises :class:`ReadOnlyError` for a read-only target and :class:`NotEnoughSpaceError` when the
    folder cannot hold the new file (``expected_size``, default: the size of ``content`` or of the
    present file) and the backup.
    """
    path = resolve_link(Path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    present = path.stat() if path.exists() else None
    if present is not None:
        refuse_read_only(path, present)
    if expected_size is None:
        expected_size = len(content) if isinstance(content, bytes) else (present.st_size if present else 0)
    needed = expected_size + (present.st_size if backup and present else 0) + SPACE_MARGIN
    check_free_space(path.parent, needed)
    temporary = _write_temporary(path, content)
    try:
        if present is not None:
            _copy_owner_and_mode(present, temporary)
            if backup:
                _keep_backup(path, present)
        else:
            os.chmod(temporary, _new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def resolve_link(path: Path) -> Path:
    """The file a symbolic link points to (the link itself stays), else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def refuse_read_only(path: Path, found: os.stat_result | None = None) -> None:
    """Raise :class:`ReadOnlyError` when ``path`` has no write permission bit (as root too: the mode
    says what its owner wants), or cannot be written by this user."""
    found = found or path.stat()
    if not found.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise ReadOnlyError(f"{path.name} is read-only; make it writable to let sheetbill write its results")


def check_free_space(folder: Path, needed: int) -> None:
    """Raise :class:`NotEnoughSpaceError` when ``folder``'s file system has less than ``needed`` bytes free."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:  # cannot tell: the write itself will fail cleanly if the disk is full
        return
    if free < needed:
        raise NotEnoughSpaceError(
            f"not enough free space in {folder}: {needed // (1 << 20) + 1} MiB needed for the new file and "
            f"its backup, {free // (1 << 20)} MiB free; nothing was written")


def _write_temporary(path: Path, content: Content) -> Path:
    """A new temporary file next to ``path`` (same file system, so renaming it is atomic) holding
    ``content``, flushed and fsynced; it is removed again when writing fails."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _copy_owner_and_mode(found: os.stat_result, temporary: Path) -> None:
    """Give ``temporary`` the mode and, where the OS allows (root, or a group the user is in), the
    owner and group of the file it replaces."""
    os.chmod(temporary, stat.S_IMODE(found.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(temporary, found.st_uid, found.st_gid)
        except OSError:
            try:
                os.chown(temporary, -1, found.st_gid)
            except OSError:
                pass


def _keep_backup(path: Path, found: os.stat_result) -> None:
    """Copy ``path`` to ``<name>.bak`` with its times, owner and mode (writable by its owner, so the
    next run can replace it), atomically."""
    temporary = _write_temporary(path, lambda stream: _copy_into(path, stream))
    try:
        shutil.copystat(path, temporary)
        _copy_owner_and_mode(found, temporary)
        os.chmod(temporary, stat.S_IMODE(found.st_mode) | stat.S_IWUSR)
        os.replace(temporary, path.with_name(f"{path.name}.bak"))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _copy_into(path: Path, stream: BinaryIO) -> None:
    """Stream the bytes of the file at ``path`` into ``stream``."""
    with open(path, "rb") as original:
        shutil.copyfileobj(original, stream)


def _new_file_mode() -> int:
    """The permissions an ordinary new file gets under the current umask."""
    mask = os.umask(0)  # there is no getter: read it by setting and restoring it
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: Path) -> None:
    """Fsync ``folder`` so the rename itself survives a crash."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on every platform (Windows)
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


# --- one run per workbook ---------------------------------------------------------------------------


def lock_path(path: Path) -> Path:
    """The lock file of the workbook at ``path``: hidden, beside it (beside the link's target)."""
    path = resolve_link(Path(path))
    return path.with_name(f".{path.name}.sheetbill-lock")


def temporary_files(path: Path) -> list[Path]:
    """The temporary files :func:`write_atomic` makes for ``path`` (and its backup) that exist now."""
    path = resolve_link(Path(path))
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    try:
        return [entry for entry in path.parent.iterdir() if pattern.fullmatch(entry.name)]
    except OSError:
        return []


@contextmanager
def workbook_lock(path: Path, wait: float = 0) -> Iterator[None]:
    """Hold the exclusive lock of the workbook at ``path`` for a run's read, compute and write.

    The lock is a lock file beside the workbook (``.<name>.sheetbill-lock``, through ``filelock``:
    Linux, macOS and Windows). With the lock held, temporary files of sheetbill's own naming left by a
    run that was killed while saving are removed (no run can be writing them). Raises
    :class:`WorkbookBusyError` when another run holds the lock for longer than ``wait`` seconds.
    """
    from filelock import FileLock, Timeout

    path = resolve_link(Path(path))
    lock = FileLock(str(lock_path(path)), timeout=max(wait, 0))
    try:
        lock.acquire()
    except Timeout as err:
        raise WorkbookBusyError(
            f"{path.name} is being changed by another sheetbill run; nothing was done. Run again when it "
            "has finished, or wait for it with --wait SECONDS") from err
    except PermissionError as err:  # a read-only folder: nothing can be written there anyway
        raise ReadOnlyError(f"cannot lock {path.name}: its folder is not writable ({err.strerror})") from err
    try:
        for leftover in temporary_files(path):
            leftover.unlink(missing_ok=True)
        yield
    finally:
        lock.release()
