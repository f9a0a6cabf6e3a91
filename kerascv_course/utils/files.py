"""Atomic, durable file writes and folder locks.

A reader never sees a half-written artifact, a crash never clobbers one (:func:`atomic_path`:
write beside, flush to disk, rename, flush the folder), and one folder is written by one process
at a time (:class:`FolderLock`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> with atomic_path("out/model.keras") as tmp:
        ...     model.save(tmp)
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"The folder of {path!r} does not exist. Received: path={path!r}")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"The folder of {path!r} is not writable. Received: path={path!r}")
    suffix = suffix if suffix is not None else "".join(_suffixes(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    except OSError as err:
        storage = storage_error(err, path, prefer_path=True)
        if storage is None:
            raise
        raise storage from err
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        if os.path.exists(tmp):  # mkstemp makes 0600 files; give the usual permissions
            os.chmod(tmp, 0o666 & ~umask)
            fsync_file(tmp)
        os.replace(tmp, path)
        fsync_folder(directory)
    except BaseException as err:
        with contextlib.suppress(OSError):  # the old ``path`` is untouched; no orphan .tmp-*
            os.remove(tmp)
        storage = storage_error(err, path, prefer_path=True) if isinstance(err, Exception) else None
        if storage is not None:
            raise storage from err
        raise


#: Why a write failed, and what to do, for the errors a user fixes outside the program.
STORAGE_ERRNOS = {
    errno.ENOSPC: ("the disk is full", "free space on it or choose another --output"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space on it or choose another --output"),
    errno.EROFS: ("the file system is read-only", "choose an --output on a writable disk"),
    errno.EACCES: ("permission is denied", "fix the folder's permissions or choose another --output"),
    errno.EPERM: ("the operation is not permitted", "fix the folder's permissions or choose another --output"),
}


class StorageError(OSError):
    """A write failed for a reason outside the program (disk full, read-only, permission
    denied); its message is one line naming the path and what to do."""

    def __str__(self) -> str:
        return str(self.args[1]) if len(self.args) > 1 else super().__str__()


def storage_error(err: BaseException, path: str | os.PathLike[str] | None = None, *,
                  prefer_path: bool = False) -> StorageError | None:
    """A :class:`StorageError` for ``err`` (or an error in its chain) when it is a disk-full,
    read-only or permission error; ``None`` otherwise. The message names ``err.filename`` (else
    ``path``; ``path`` first with ``prefer_path``, for the destination of an atomic write rather
    than its temporary file) and says that files written before are intact (every write here is
    atomic)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError):
            return current
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            reason, advice = STORAGE_ERRNOS[current.errno]
            given = os.fspath(path) if path is not None else None
            where = (given or current.filename) if prefer_path else (current.filename or given)
            target = f"{where!r}" if where else "a file"
            return StorageError(
                current.errno,
                f"Cannot write {target}: {reason} ({current.strerror or os.strerror(current.errno)}); "
                f"{advice}. Files written before are intact.",
                where,
            )
        current = current.__cause__ or current.__context__
    return None


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's data to the disk (so a rename that follows publishes complete bytes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename inside it) to the disk, where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


class FolderLockedError(RuntimeError):
    """Another living process holds the folder's lock."""


class FolderLock:
    """An exclusive lock on a folder for the life of a process (``<folder>/.lock``).

    The lock is an ``flock`` on the lock file, so the kernel drops it when its process dies: a
    lock left by a killed process is taken over at once, while a living holder is refused with
    its PID. Use it as a context manager; the folder is created if needed.

    Args:
        folder: the folder to lock.
        what: what the folder holds, for messages (``"run folder"``, ``"search folder"``, …).

    Raises (on entry):
        FolderLockedError: naming the holder's PID and what to do.
    """

    NAME = ".lock"

    def __init__(self, folder: str | os.PathLike[str], what: str = "folder") -> None:
        self.folder = os.fspath(folder)
        self.what = what
        self._fd: int | None = None

    @property
    def path(self) -> str:
        return os.path.join(self.folder, self.NAME)

    def holder(self) -> str:
        """The PID (and host) written by the current holder, or ``"unknown"``."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                return fh.read().strip() or "unknown"
        except OSError:
            return "unknown"

    def acquire(self) -> FolderLock:
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise FolderLockedError(
                    f"The {self.what} {self.folder!r} is in use by another process ({self.holder()}); "
                    f"wait for it to finish or stop it, or choose another folder. "
                    f"Received: output={self.folder!r}"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()} on {os.uname().nodename}".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def probe_writable(folder: str, what: str) -> None:
    """``PermissionError`` naming ``what`` when no file can be created in the existing ``folder``.

    Creates and removes one empty file, so read-only file systems, missing permissions and full
    disks are found before any heavy work.
    """
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
    except OSError as err:
        raise PermissionError(f"{what} cannot be written ({err.strerror} in {folder!r}).") from err
    os.close(fd)
    os.remove(probe)


def _suffixes(path: str) -> list[str]:
    name = os.path.basename(path)
    if name.endswith(".weights.h5"):
        return [".weights.h5"]
    return [os.path.splitext(name)[1]]


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
