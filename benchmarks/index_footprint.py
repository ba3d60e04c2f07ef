"""Disk and memory the embedded index needs per mention, measured at growing sizes.

    .venv/bin/python benchmarks/index_footprint.py [--sizes 10000 30000 100000] [--batch 1000]

Starts its own stand-in on a free port with a fresh data folder, bulk-writes synthetic enriched
mentions (benchmarks/synthetic.py) and after each size prints: bulk write rate, the data folder's
size on disk, the server's resident memory (RSS) and the JSON size of the documents written.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scratch import scratch_settings
from synthetic import synthetic_mentions

from index.client import IndexNames, embedded_server, open_index
from index.mentions import index_mentions
from index.schema import ensure_indices

MIB = 1024 * 1024


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (the stand-in may fork workers)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Pid", "0")) == pid or int(fields.get("PPid", "0").strip() or 0) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    mentions = synthetic_mentions(max(args.sizes), [f"c{i}" for i in range(500)], now)
    with tempfile.TemporaryDirectory() as state:
        scratch = scratch_settings(Path(state), request_timeout=300)
        server = embedded_server(scratch)
        try:
            es = open_index(scratch)
            names = IndexNames("footprint")
            ensure_indices(es, names)
            pid = int(server.pid_file.read_text())
            header = ("mentions", "write/s", "disk MiB", "disk/1M GiB", "RSS MiB", "JSON MiB")
            print("{:>9} {:>8} {:>9} {:>12} {:>8} {:>9}".format(*header))
            written, json_bytes = 0, 0
            for size in sorted(args.sizes):
                started = time.perf_counter()
                for start in range(written, size, args.batch):
                    batch = mentions[start : min(start + args.batch, size)]
                    json_bytes += sum(len(json.dumps(m.model_dump(mode="json"))) for m in batch)
                    report = index_mentions(es, names, batch)
                    if report.failed:
                        raise SystemExit(f"bulk write failed: {report.failed[0]}")
                rate = (size - written) / (time.perf_counter() - started)
                written = size
                disk = folder_bytes(server.data_dir)
                print(
                    f"{size:>9,} {rate:>8.0f} {disk / MIB:>9.1f} {disk / size * 1e6 / 1024**3:>12.2f} "
                    f"{rss_bytes(pid) / MIB:>8.0f} {json_bytes / MIB:>9.1f}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
