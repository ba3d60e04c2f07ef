"""`ecoute webhook serve` as a real process under 300 slow clients: memory and threads stay bounded."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

from core.signing import signed_headers
from index.client import free_port
from tests.collectors.test_webhook import ENV, SECRET, post_item

ATTACKERS_PER_KIND = 100  # 300 in all: slow unsigned bodies, slow forged bodies, slow headers
ATTACK_SECONDS = 14
BODY_BYTES = 1_000_000  # announced by each slow body, under the 1 MB default limit
CHUNK = b"x" * 32768


def process_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) in KiB and Threads of a process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM", "Threads"}:
            values[key] = int(value.split()[0])
    return values


async def slow_client(kind: str, port: int, stop_at: float, answers: Counter[str]) -> None:
    """One attacker: connects, trickles its request, and starts again once answered or cut off."""
    loop = asyncio.get_running_loop()
    while loop.time() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            answers["refused connection"] += 1
            await asyncio.sleep(0.2)
            continue
        answer = asyncio.ensure_future(reader.read(64))
        try:
            head = f"POST /webhooks/helpdesk HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY_BYTES}\r\n"
            if kind == "forged":
                head += f"X-Ecoute-Timestamp: {int(time.time())}\r\nX-Ecoute-Signature: v1={'0' * 64}\r\n"
            if kind == "headers":
                writer.write(head.encode())
                while loop.time() < stop_at and not answer.done():
                    writer.write(b"X-Slow: y\r\n")  # headers that never end
                    await asyncio.wait([answer], timeout=0.5)
            else:
                writer.write(head.encode() + b"\r\n")
                sent = 0
                while sent < BODY_BYTES and loop.time() < stop_at and not answer.done():
                    writer.write(CHUNK[: BODY_BYTES - sent])
                    sent += len(CHUNK)
                    await asyncio.wait([answer, asyncio.ensure_future(writer.drain())], timeout=1)
                    await asyncio.wait([answer], timeout=0.05)
            if answer.done() and not answer.exception():
                answers[answer.result()[:12].decode(errors="replace")] += 1
        except OSError:
            answers["cut off"] += 1
        finally:
            answer.cancel()
            writer.close()
        await asyncio.sleep(0.5)


def attack(port: int, answers: Counter[str]) -> None:
    async def all_of_them() -> None:
        stop_at = asyncio.get_running_loop().time() + ATTACK_SECONDS
        kinds = ["unsigned", "forged", "headers"]
        await asyncio.gather(
            *(slow_client(k, port, stop_at, answers) for k in kinds for _ in range(ATTACKERS_PER_KIND))
        )

    asyncio.run(all_of_them())


def send_signed(url: str, native_id: str) -> httpx.Response:
    body = json.dumps(post_item(native_id)).encode()
    return httpx.post(url, content=body, headers=signed_headers(SECRET, body), timeout=60)


def test_300_slow_clients_hold_neither_memory_nor_threads_and_signed_posts_still_get_in(tmp_path: Path):
    port = free_port()
    config = tmp_path / "config.yaml"
    state = tmp_path / "state"
    data = {
        "brand": {"name": "Lumio"},
        "state_dir": str(state),
        "sources": [{"name": "helpdesk", "type": "webhook"}],
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "ecoute",
        "webhook",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
    ]
    env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}/webhooks/helpdesk"
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("webhook helpdesk: POST")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                first = send_signed(url, "before")
                break
            except httpx.TransportError:
                time.sleep(0.1)  # printed its address, not yet serving
        assert first.status_code == 200
        before = process_status(server.pid)

        answers: Counter[str] = Counter()
        attackers = threading.Thread(target=attack, args=(port, answers))
        attackers.start()
        started = time.monotonic()
        peak_threads = 0
        during: list[int] = []
        while attackers.is_alive():
            peak_threads = max(peak_threads, process_status(server.pid)["Threads"])
            attackers.join(timeout=0.5)
            if len(during) < 3 and time.monotonic() - started > 4 * (len(during) + 1):
                during.append(send_signed(url, f"during-{len(during)}").status_code)
        after = process_status(server.pid)

        growth_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
        print(
            f"\nRSS {before['VmRSS'] / 1024:.0f} MiB before, peak {after['VmHWM'] / 1024:.0f} MiB; "
            f"peak threads {peak_threads}; answers to attackers {dict(answers)}; signed posts {during}"
        )
        assert during == [200, 200, 200]  # valid posts got in while the attack went on
        assert peak_threads <= 40  # main thread and a bounded pool, not a thread per client
        assert growth_mib < 100  # bodies in flight are capped at 32 MiB in all; uvicorn buffers the rest
        assert answers["HTTP/1.1 401"] > 0 and answers["HTTP/1.1 408"] > 0  # rejections are answered
        assert send_signed(url, "after").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=60)
    spooled = [
        json.loads(line)["post"]["native_id"] for line in (state / "webhooks" / "helpdesk.jsonl").open()
    ]
    assert spooled == ["before", "during-0", "during-1", "during-2", "after"]
