"""One process fanning a room's frames out to its student sockets, on the real Redis layer.

    .venv/bin/python benchmarks/bench_classroom_fanout.py [--students 1000] [--frames 30]
        [--redis redis://127.0.0.1:6379/12]

This is the server half of ``bench_classroom.py`` without HTTP, browsers or a second process:
N real ``StudentConsumer`` objects (their sockets record when each frame is handed to them)
subscribed through ``RedisPubSubChannelLayer``, and the instructor's publish of one
pre-serialised frame per step. It runs the same frames twice in one run, through channels'
own ``AsyncConsumer.dispatch`` (a ``close_old_connections`` hop to the sync thread before every
message) and through the classroom's, so the two figures share the machine's load. Channel
names carry a prefix of their own; nothing on Redis is flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRASHER = """\
apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo bye; exit 1"]
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def frame_texts(frames: int) -> list[str]:
    """Real ``classroom.frame`` texts of a crash-looping Pod, one per step."""
    from podlab.classroom.sim import RoomSim, RoomState, build_lab, dumps

    lab = build_lab(manifest=CRASHER, seed=0, actions=[], t=0.0)
    room = RoomSim(lab)
    state = RoomState(room_pk=1, manifest=CRASHER, seed=0, actions=[], t=0.0, playing=False,
                      speed=1.0, seq=0, epoch=0)
    texts = []
    for seq in range(1, frames + 1):
        lab.step()
        state.seq = seq
        texts.append(dumps(room.frames(state=state)["en"]))
    return texts


async def fan_out(*, students: int, texts: list[str], own_dispatch: bool) -> list[float]:
    """Seconds from publish to each socket's send, for every (frame, student)."""
    from channels.consumer import AsyncConsumer
    from channels.layers import get_channel_layer
    from channels.utils import await_many_dispatch

    from podlab.classroom.consumers import StudentConsumer

    layer = get_channel_layer()
    group = f"fanout-{uuid.uuid4().hex[:8]}"
    received: list[dict[int, float]] = []
    consumers = []
    for _ in range(students):
        consumer = StudentConsumer()
        consumer.seq = 0
        consumer.lang = "en"
        consumer.tasks = []
        consumer.channel_layer = layer
        consumer.channel_name = await layer.new_channel()
        seen: dict[int, float] = {}
        received.append(seen)

        async def record(message, seen=seen, consumer=consumer) -> None:
            seen[consumer.seq] = time.perf_counter()

        consumer.base_send = record
        await layer.group_add(group, consumer.channel_name)
        consumers.append(consumer)
    loops = []
    for consumer in consumers:
        dispatch = (consumer.dispatch if own_dispatch
                    else functools.partial(AsyncConsumer.dispatch, consumer))
        receive = functools.partial(layer.receive, consumer.channel_name)
        loops.append(asyncio.create_task(await_many_dispatch([receive], dispatch)))
    await asyncio.sleep(0.5)  # every subscription is in place
    samples: list[float] = []
    for seq, text in enumerate(texts, start=1):
        sent = time.perf_counter()
        await layer.group_send(group, {"type": "room.sim", "seq": seq, "snapshot": False,
                                       "text": text})
        deadline = sent + 30
        while time.perf_counter() < deadline and not all(seq in s for s in received):
            await asyncio.sleep(0.002)
        samples.extend(s[seq] - sent for s in received if seq in s)
        await asyncio.sleep(0.05)
    for task in loops:
        task.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    for consumer in consumers:
        await layer.group_discard(group, consumer.channel_name)
    return samples


def report(name: str, samples: list[float], expected: int) -> float:
    p99 = 1000 * percentile(samples, 0.99)
    print(f"  {name:<34} p50 {1000 * statistics.median(samples):6.1f} ms   p99 {p99:6.1f} ms"
          f"   max {1000 * max(samples):6.1f} ms   {expected - len(samples)} lost")
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000, help="sockets in this process")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["REDIS_URL"] = args.redis
    os.environ["PODLAB_CHANNEL_PREFIX"] = f"bench-fanout-{uuid.uuid4().hex[:8]}."
    import django

    django.setup()
    texts = frame_texts(args.frames)
    print(f"{args.students} student sockets, {args.frames} frames of "
          f"{min(map(len, texts))}-{max(map(len, texts))} characters, Redis pub/sub layer")

    async def both() -> None:
        expected = args.students * args.frames
        before = report("channels' dispatch (before)",
                        await fan_out(students=args.students, texts=texts, own_dispatch=False),
                        expected)
        after = report("classroom dispatch (after)",
                       await fan_out(students=args.students, texts=texts, own_dispatch=True),
                       expected)
        print(f"  p99 after / before: {after / before:.2f}")

    asyncio.run(both())


if __name__ == "__main__":
    main()
