"""A websocket flood (a script, not a test): prints figures.

One lab socket sends N messages as fast as it can (``lab.sync`` before any apply: each one
the server accepts is answered with an error). Over the rate limit the server drops messages
and says so once per stretch, so the replies and the CPU the flood costs stay small.
Figures: replies received, CPU seconds of the process, wall seconds. The websocket runs
in process (Channels' test communicator), so the CPU includes the sending side.

Run: ``.venv/bin/python benchmarks/bench_flood.py [--messages 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from channels.testing import WebsocketCommunicator  # noqa: E402

from podlab.asgi import application  # noqa: E402


async def flood(count: int) -> None:
    socket = WebsocketCommunicator(application, "/ws/lab/",
                                   headers=[(b"origin", b"http://localhost")])
    connected, _ = await socket.connect()
    assert connected
    await socket.receive_json_from()
    text = json.dumps({"type": "lab.sync"})
    cpu, wall = time.process_time(), time.monotonic()
    for _ in range(count):
        await socket.send_to(text_data=text)
    replies = limited = 0
    while not await socket.receive_nothing(timeout=0.3):
        message = json.loads((await socket.receive_output())["text"])
        replies += 1
        limited += message.get("code") == "rate_limited"
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall - 0.3
    print(f"{count} messages: {replies} replies ({limited} rate_limited), "
          f"CPU {cpu:.2f} s, wall {wall:.2f} s")
    await socket.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    asyncio.run(flood(parser.parse_args().messages))


if __name__ == "__main__":
    main()
