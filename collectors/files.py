"""File import: JSONL or CSV files a company already has, and the bundled sample source."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from collectors.base import CollectorError, Cursor, FetchResult, SourceConfig, flatten_row, mentions_keyword
from core.documents import RawPost, as_utc


class FileConfig(SourceConfig):
    type: Literal["file"] = "file"
    path: Path
    format: Literal["auto", "jsonl", "csv"] = "auto"
    platform: str = "import"
    replay_to_now: bool = False
    """Shift every timestamp so the newest item lands at collection time (sample replay)."""


class FileCollector:
    """Reads a JSONL file (one RawPost-shaped object a line) or a CSV with dotted columns."""

    type: ClassVar[str] = "file"

    def __init__(self, config: FileConfig, base_dir: Path | None = None) -> None:
        self.config = config
        path = config.path
        self.path = path if path.is_absolute() or base_dir is None else base_dir / path

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        name = self.config.name
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise CollectorError(name, str(self.path), f"cannot read file ({exc.strerror})") from exc
        fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
        result = FetchResult(cursor={"fingerprint": fingerprint})
        if cursor.get("fingerprint") == fingerprint:
            return result
        fmt = self.config.format
        if fmt == "auto":
            fmt = "csv" if self.path.suffix.lower() == ".csv" else "jsonl"
        rows = self._csv_rows() if fmt == "csv" else self._jsonl_rows(result.problems)
        for line_no, row in rows:
            try:
                post = self._to_post(row)
            except (ValidationError, ValueError, TypeError) as exc:
                result.problems.append(f"{name}: {self.path.name} line {line_no}: {_short(exc)}")
                continue
            if mentions_keyword(post, self.config.keywords):
                result.posts.append(post)
        if self.config.replay_to_now and result.posts:
            _shift_to_now(result.posts)
        return result

    def _jsonl_rows(self, problems: list[str]):
        with self.path.open("rb") as handle:  # decoded line by line: one bad line is one problem
            for line_no, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    problems.append(
                        f"{self.config.name}: {self.path.name} line {line_no}: "
                        f"not UTF-8 text (byte 0x{raw[exc.start]:02x})"
                    )
                    continue
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(
                        f"{self.config.name}: {self.path.name} line {line_no}: not JSON ({exc.msg})"
                    )
                    continue
                if not isinstance(row, dict):
                    problems.append(f"{self.config.name}: {self.path.name} line {line_no}: not a JSON object")
                    continue
                yield line_no, row

    def _csv_rows(self):
        with self.path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            try:
                for row in reader:
                    if None in row:
                        yield reader.line_num, {"__error__": "more cells than header columns"}
                        continue
                    yield reader.line_num, flatten_row(row)
            except (UnicodeDecodeError, csv.Error) as exc:  # the rest of a CSV cannot be read reliably
                what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"not CSV ({exc})"
                raise CollectorError(
                    self.config.name, f"{self.path.name} line {reader.line_num + 1}", what
                ) from exc

    def _to_post(self, row: dict[str, Any]) -> RawPost:
        if "__error__" in row:
            raise ValueError(row["__error__"])
        data = {k: v for k, v in row.items() if k != "expected"}
        data.setdefault("platform", self.config.platform)
        data["source"] = self.config.name
        data["raw"] = row
        if not data.get("native_id"):
            raise ValueError("missing native_id")
        return RawPost.model_validate(data)


def _shift_to_now(posts: list[RawPost]) -> None:
    newest = max(as_utc(p.created_at) for p in posts)
    delta = datetime.now(UTC) - newest
    for post in posts:
        post.created_at = as_utc(post.created_at) + delta


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "row"
            parts.append(f"{loc}: {err['msg'].lower()}")
        return "; ".join(parts)
    return str(exc)
