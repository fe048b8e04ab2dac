"""What an installer changed in a user's home, so that `--uninstall` can put the home back as it was.

A journal records every path an install created or modified: created paths with the hash they were left with,
modified files with a backup of their earlier bytes. Uninstalling restores a file only while it still holds what
the install left there (then the result is exactly the earlier home); a file changed since is handed to the
client's own inverse first (which removes only our entries) and then kept. Installs for several clients may share paths (the
recorded Python, ~/.agents/skills): each journal lists the paths its client needs, and uninstalling one client
hands its records for such a path to the other journal instead of removing what that client still uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_bytes, atomic_write_text

JOURNAL = "journal.json"
BACKUPS = "backups"


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


@dataclass
class Entry:
    path: str
    kind: str  # "file" or "dir"
    before: str | None  # backup file name under backups/, or None when the path did not exist
    after: str | None = None  # sha256 the install left a file with
    mode: int | None = None  # the earlier file's permission bits


class Journal:
    def __init__(self, folder: Path):
        self.folder = folder
        self.entries: dict[str, Entry] = {}
        self.needs: set[str] = set()
        self.created_state: list[str] = []
        if (folder / JOURNAL).is_file():
            data = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
            self.entries = {item["path"]: Entry(**item) for item in data["entries"]}
            self.needs = set(data["needs"])
            self.created_state = data["created_state"]
        self._initial = self._serialized()

    @property
    def exists(self) -> bool:
        return (self.folder / JOURNAL).is_file()

    # -- recording ------------------------------------------------------------------------------------------

    def make_dirs(self, path: Path) -> None:
        missing = []
        for folder in [path, *path.parents]:
            if folder.exists():
                break
            missing.append(folder)
        for folder in reversed(missing):
            folder.mkdir()
            self.entries.setdefault(str(folder), Entry(str(folder), "dir", None))

    def write_file(self, path: Path, data: bytes) -> bool:
        """Write `data` to `path` unless it is already there; returns whether anything changed. A file that
        existed keeps its permission bits; a new one gets the umask's."""
        self.needs.update(str(folder) for folder in [path, *path.parents])
        if path.is_file() and path.read_bytes() == data:
            return False
        self.make_dirs(path.parent)
        self._remember_before(path)
        earlier_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
        atomic_write_bytes(path, data)
        os.chmod(path, earlier_mode if earlier_mode is not None else _new_file_mode())
        self.entries[str(path)].after = digest(path)
        return True

    @contextmanager
    def observe(self, roots: Iterable[Path], editable: Iterable[Path]) -> Iterator[None]:
        """Record what an outside program (a client's own CLI) changes under `roots` while the block runs.
        Files in `editable` are backed up first; any other pre-existing file it changes cannot be restored and
        makes the block fail with its path."""
        roots = list(roots)
        editable = [path for path in editable if path.is_file()]
        before = {path: _signature(path) for root in roots for path in _walk(root)}
        saved = {path: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) for path in editable}
        yield
        after = {path: _signature(path) for root in roots for path in _walk(root)}
        unrestorable = []
        for path in sorted(after, key=lambda p: len(p.parts)):
            if path not in before:
                kind = "dir" if path.is_dir() else "file"
                entry = self.entries.setdefault(str(path), Entry(str(path), kind, None))
                entry.after = digest(path) if kind == "file" else None
            elif after[path] != before[path] and path.is_file():
                if path in saved and saved[path][0] != path.read_bytes():
                    self._store_backup(path, *saved[path])
                    self.entries[str(path)].after = digest(path)
                elif path not in saved:
                    unrestorable.append(str(path))
        self.needs.update(path for path in self.entries if any(Path(path).is_relative_to(root) for root in roots))
        if unrestorable:
            raise KernelPilotError(f"the client changed files the installer could not back up: {unrestorable[0]}")

    def _remember_before(self, path: Path) -> None:
        if str(path) in self.entries:
            return
        if path.is_file():
            self._store_backup(path, path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        else:
            self.entries[str(path)] = Entry(str(path), "file", None)

    def _store_backup(self, path: Path, data: bytes, mode: int) -> None:
        if str(path) in self.entries:
            return
        name = f"{hashlib.sha256(str(path).encode()).hexdigest()[:16]}-{path.name}"
        self._ensure_state_folder()
        atomic_write_bytes(self.folder / BACKUPS / name, data)
        self.entries[str(path)] = Entry(str(path), "file", name, mode=mode)

    def _ensure_state_folder(self) -> None:
        for folder in reversed([self.folder / BACKUPS, self.folder, *self.folder.parents]):
            if not folder.exists():
                folder.mkdir()
                self.created_state.append(str(folder))

    def _serialized(self) -> str:
        return json.dumps({"entries": [asdict(entry) for entry in self.entries.values()],
                           "needs": sorted(self.needs), "created_state": self.created_state}, indent=2) + "\n"

    def save(self) -> None:
        """Write the journal when it changed (a repeated install leaves it byte for byte as it was)."""
        if not self.entries and not self.exists:
            return
        self._ensure_state_folder()
        text = self._serialized()
        if text != self._initial or not self.exists:
            atomic_write_text(self.folder / JOURNAL, text)
            self._initial = text

    # -- undoing --------------------------------------------------------------------------------------------

    def changed_since_install(self, path: Path) -> bool:
        """Whether a file the install wrote holds something else now."""
        entry = self.entries.get(str(path))
        return entry is not None and entry.kind == "file" and digest(path) != entry.after

    def undo(self, others: list["Journal"]) -> list[str]:
        """Put every recorded path back; returns one line per path kept as it is, with the reason. A path another
        client's journal needs is handed to that journal instead."""
        kept = []
        entries = sorted(self.entries.values(), key=lambda e: -len(Path(e.path).parts))
        for entry in entries:
            heir = next((other for other in others if entry.path in other.needs), None)
            if heir is not None:
                heir.inherit(entry, self.folder / BACKUPS)
            elif entry.kind == "file":
                path = Path(entry.path)
                if digest(path) == entry.after:
                    self._restore(entry)
                elif path.exists():
                    kept.append(f"{path}: changed since the install, kept")
        shutil.rmtree(self.folder / BACKUPS, ignore_errors=True)
        (self.folder / JOURNAL).unlink(missing_ok=True)
        for folder in sorted(map(Path, self.created_state), key=lambda p: -len(p.parts)):
            heir = next((other for other in others if other.folder.is_relative_to(folder)), None)
            if heir is not None:
                heir.created_state.append(str(folder))
            elif folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        for entry in entries:
            path = Path(entry.path)
            if entry.kind == "dir" and not any(entry.path in other.needs for other in others) and path.is_dir():
                if any(path.iterdir()):
                    kept.append(f"{path}: not empty, kept")
                else:
                    path.rmdir()
        for other in others:
            other.save()
        return kept

    def inherit(self, entry: Entry, backups: Path) -> None:
        """Take over another journal's record of a path this client still needs: its earlier state wins."""
        own = self.entries.get(entry.path)
        moved = Entry(**asdict(entry))
        if own is not None:
            moved.after = own.after
        if entry.before is not None:
            self._ensure_state_folder()
            shutil.copy2(backups / entry.before, self.folder / BACKUPS / entry.before)
        self.entries[entry.path] = moved

    def _restore(self, entry: Entry) -> None:
        path = Path(entry.path)
        if entry.before is None:
            path.unlink(missing_ok=True)
            return
        atomic_write_bytes(path, (self.folder / BACKUPS / entry.before).read_bytes())
        if entry.mode is not None:
            os.chmod(path, entry.mode)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    yield root
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


def _signature(path: Path) -> tuple:
    info = path.lstat()
    return (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)
