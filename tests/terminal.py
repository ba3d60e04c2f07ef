"""Run `ecoute` on a pseudo-terminal, as in a shell: what reaches a person's screen, not a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import threading
import tty
from pathlib import Path

from tests.test_cli import ECOUTE


def on_a_terminal(*args: str, cwd: Path, stdout_too: bool = False) -> subprocess.CompletedProcess:
    """Run `ecoute` with stderr on a pseudo-terminal; with `stdout_too`, stdout on the same one (raw, so
    the terminal adds no carriage return, and nothing strips escape sequences as click does in a pipe),
    returned as stdout; otherwise stdout goes to a pipe and the terminal's output is returned as stderr."""
    leader, follower = pty.openpty()
    if stdout_too:
        tty.setraw(follower)
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ran = subprocess.run(
            [*ECOUTE, *args], cwd=cwd, stdout=follower if stdout_too else subprocess.PIPE, stderr=follower,
            text=True, timeout=120, env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"},
        )  # fmt: skip
    finally:
        os.close(follower)
    reader.join(timeout=30)
    os.close(leader)
    screen = received.decode("utf-8", "replace")
    if stdout_too:
        return subprocess.CompletedProcess(ran.args, ran.returncode, screen, "")
    return subprocess.CompletedProcess(ran.args, ran.returncode, ran.stdout, screen)
