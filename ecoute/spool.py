"""What must not be lost while the index cannot take it: the spool, the dead letters and local cursors.

Everything here is plain files under `state_dir`, written so that a process killed at any instant
leaves either the old or the new content, never half of it (write to a temporary file, fsync, rename,
fsync the folder). Nothing in this module talks to Elasticsearch; ecoute/stages/recovery.py replays
through index/.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from core.errors import EcouteError


class SpoolError(EcouteError):
    """The local buffer could not be written (disk full, permissions): nothing was acknowledged."""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a crash leaves the old or the new file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


class SpooledOp(BaseModel):
    """One write waiting for the index: create a document, or delete one the platform deleted."""

    op: Literal["create", "delete"]
    kind: Literal["mentions"] = "mentions"
    id: str
    source: str
    doc: dict[str, Any] | None = None


class Spool:
    """Append-only JSONL segments in `state_dir/spool`: replayed oldest first, removed once acknowledged."""

    folder = "spool"

    def __init__(self, state_dir: Path) -> None:
        self.directory = Path(state_dir) / self.folder
        self._sequence = 0
        self._lock = threading.Lock()

    def append(self, ops: list[SpooledOp], tag: str = "") -> Path | None:
        """Write `ops` durably as one new segment; once this returns they survive a crash.

        `tag` (letters and digits) is kept in the segment's name: `segment_tag` reads it back.
        """
        if not ops:
            return None
        if tag and not tag.isalnum():
            raise ValueError(f"a segment tag is letters and digits only: {tag!r}")
        with self._lock:
            self._sequence += 1
            name = f"{time.time_ns():020d}-{os.getpid():07d}-{self._sequence:06d}"
            name += f"-{tag}.jsonl" if tag else ".jsonl"
        path = self.directory / name
        write_atomically(path, _jsonl([op.model_dump(mode="json") for op in ops]))
        return path

    def segments(self) -> list[Path]:
        """Finished segments in the order they were written (half-written temporary files are not)."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.jsonl") if not p.name.startswith("."))

    @staticmethod
    def written_at(segment: Path) -> float:
        """When the segment was written (epoch seconds, from its name)."""
        return int(segment.name.split("-", 1)[0]) / 1e9

    @staticmethod
    def segment_tag(segment: Path) -> str:
        """The tag the segment was appended with ("" without one)."""
        parts = segment.name.removesuffix(".jsonl").split("-")
        return parts[3] if len(parts) > 3 else ""

    def read(self, segment: Path) -> list[SpooledOp]:
        try:
            lines = segment.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:  # replayed meanwhile by another thread
            return []
        return [SpooledOp.model_validate_json(line) for line in lines if line.strip()]

    def replace(self, segment: Path, ops: list[SpooledOp]) -> None:
        """Keep only `ops` of a segment (the rest was acknowledged); an empty list removes it."""
        if ops:
            write_atomically(segment, _jsonl([op.model_dump(mode="json") for op in ops]))
        else:
            segment.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                _fsync_dir(segment.parent)

    def pending(self) -> int:
        """How many writes wait in the spool."""
        return sum(len(self.read(segment)) for segment in self.segments())

    def erase(self, matches: Callable[[SpooledOp], bool]) -> int:
        """Remove every spooled op `matches` selects (GDPR erasure); returns how many."""
        removed = 0
        with self.exclusive(wait=True):
            for segment in self.segments():
                ops = self.read(segment)
                kept = [op for op in ops if not matches(op)]
                if len(kept) != len(ops):
                    removed += len(ops) - len(kept)
                    self.replace(segment, kept)
        return removed

    @contextlib.contextmanager
    def exclusive(self, wait: bool = False) -> Iterator[bool]:
        """Hold the spool for replay or erasure; yields False when another process or thread has it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class Journal(Spool):
    """`state_dir/journal`: writes the embedded stand-in acknowledged but may not have saved yet.

    The stand-in keeps its data in memory and saves it to disk about once a second, so a write it
    acknowledged is lost if it dies before the next save. Each segment is tagged with the stand-in
    process that acknowledged it, kept until that process has had time to save it, and written again
    (by id, with `create`) if another process answers meanwhile (ecoute/stages/recovery.py `confirm_journal`).
    """

    folder = "journal"


class DeadLetter(BaseModel):
    """A document the index refused for a reason retrying will not fix by itself."""

    id: str
    kind: Literal["mentions"] = "mentions"
    source: str
    reason: str
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int = 1
    doc: dict[str, Any]

    def line(self) -> str:
        return (
            f"{self.id}  {self.source}  {self.attempts} attempt{'s' if self.attempts > 1 else ''}, "
            f"last {self.last_failed_at:%Y-%m-%d %H:%M}  {self.reason}"
        )


@dataclass
class DeadLetters:
    """`state_dir/dead-letters.jsonl`: one refused document per id, until `ecoute dlq retry` stores it."""

    state_dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        return Path(self.state_dir) / "dead-letters.jsonl"

    def all(self) -> list[DeadLetter]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [DeadLetter.model_validate_json(line) for line in lines if line.strip()]

    def add(self, refused: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Record (id, source, reason, document) per refused document; a known id counts one attempt more."""
        if not refused:
            return
        now = datetime.now(UTC)
        with self._lock:
            letters = {letter.id: letter for letter in self.all()}
            for doc_id, source, reason, doc in refused:
                known = letters.get(doc_id)
                if known:
                    known.attempts += 1
                    known.reason, known.last_failed_at, known.doc = reason, now, doc
                else:
                    letters[doc_id] = DeadLetter(
                        id=doc_id,
                        source=source,
                        reason=reason,
                        first_failed_at=now,
                        last_failed_at=now,
                        doc=doc,
                    )
            self._write(list(letters.values()))

    def remove(self, ids: set[str]) -> int:
        with self._lock:
            letters = self.all()
            kept = [letter for letter in letters if letter.id not in ids]
            if len(kept) != len(letters):
                self._write(kept)
            return len(letters) - len(kept)

    def erase(self, matches: Callable[[DeadLetter], bool]) -> int:
        """Remove every dead letter `matches` selects (GDPR erasure); returns how many."""
        with self._lock:
            letters = self.all()
            kept = [letter for letter in letters if not matches(letter)]
            if len(kept) != len(letters):
                self._write(kept)
            return len(letters) - len(kept)

    def _write(self, letters: list[DeadLetter]) -> None:
        write_atomically(self.path, _jsonl([letter.model_dump(mode="json") for letter in letters]))


class LocalCursors:
    """A copy of each source's cursor in `state_dir/cursors`: collection goes on while the index is away."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = Path(state_dir) / "cursors"

    def _path(self, source: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
        return self.directory / f"{safe}.json"

    def get(self, source: str) -> tuple[dict[str, Any], datetime] | None:
        try:
            data = json.loads(self._path(source).read_text(encoding="utf-8"))
            return dict(data["cursor"]), datetime.fromisoformat(data["updated_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, source: str, cursor: dict[str, Any], updated_at: datetime) -> None:
        write_atomically(
            self._path(source),
            json.dumps({"cursor": cursor, "updated_at": updated_at.isoformat()}, ensure_ascii=False),
        )
