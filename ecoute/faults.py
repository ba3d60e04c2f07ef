"""Crash points for the kill-and-restart tests: `ECOUTE_CRASH_AT=<point>` kills the process there.

The process sends itself SIGKILL, exactly what the kernel's OOM killer or a pulled plug does: no
`finally`, no flush. Unset (always, outside the tests) each call is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS = ("fetched", "enriched", "indexed", "alerted", "spooled", "replayed")


def crash_point(name: str) -> None:
    """Die here, at once, if the environment asks for it (see tests/reliability/test_crash_restart.py)."""
    if os.environ.get("ECOUTE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
