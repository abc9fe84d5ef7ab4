"""The discrete-event loop: a heap of ``(time, priority, seq, event)`` and a seeded RNG.

Nothing here reads a wall clock. ``seq`` breaks ties so that events due at the same time and
priority run in the order they were scheduled, which keeps every run byte-for-byte the same.
The heap holds plain tuples (``seq`` is unique, so the timer itself is never compared): tuple
comparison runs in C, which is most of what keeps the loop fast.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

#: Priorities for events due at the same instant: lower runs first.
PRIORITY_PROCESS = 0  # container programs resume
PRIORITY_KUBELET = 10  # pod syncs, probe ticks
PRIORITY_ACTION = 20  # learner actions scheduled ahead


class Timer:
    """A scheduled callback; ``cancel()`` makes the loop skip it."""

    __slots__ = ("callback", "priority", "seq", "time")

    def __init__(
        self, time: float, priority: int, seq: int, callback: Callable[[], object]
    ) -> None:
        self.time = time
        self.priority = priority
        self.seq = seq
        self.callback: Callable[[], object] | None = callback

    def __lt__(self, other: Timer) -> bool:
        if self.time != other.time:
            return self.time < other.time
        if self.priority != other.priority:
            return self.priority < other.priority
        return self.seq < other.seq

    @property
    def active(self) -> bool:
        return self.callback is not None

    def cancel(self) -> None:
        self.callback = None


class EventLoop:
    """Runs callbacks in simulated-time order."""

    def __init__(self, seed: int = 0) -> None:
        self.now: float = 0.0
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not crypto
        self._heap: list[tuple[float, int, int, Timer]] = []
        self._seq = 0
        self.dispatched = 0

    def call_at(
        self, time: float, callback: Callable[[], object], priority: int = PRIORITY_KUBELET
    ) -> Timer:
        """Schedule ``callback`` at simulated ``time`` (never earlier than now)."""
        if time < self.now:
            time = self.now
        self._seq = seq = self._seq + 1
        timer = Timer(time, priority, seq, callback)
        heapq.heappush(self._heap, (time, priority, seq, timer))
        return timer

    def call_later(
        self, delay: float, callback: Callable[[], object], priority: int = PRIORITY_KUBELET
    ) -> Timer:
        now = self.now
        time = now + delay if delay > 0 else now
        self._seq = seq = self._seq + 1
        timer = Timer(time, priority, seq, callback)
        heapq.heappush(self._heap, (time, priority, seq, timer))
        return timer

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][3].callback is None:
            heapq.heappop(heap)

    def next_time(self) -> float | None:
        """Time of the next pending callback, or None when nothing is scheduled."""
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def pending(self, until: float) -> list[Callable[[], object]]:
        """The callbacks scheduled at ``<= until`` (in no particular order)."""
        return [entry[3].callback for entry in self._heap
                if entry[0] <= until and entry[3].callback is not None]

    def run_until(self, until: float) -> int:
        """Run everything due at ``<= until``, then set the clock to ``until``.

        Returns how many callbacks ran.
        """
        heap = self._heap
        ran = 0
        pop = heapq.heappop
        while heap:
            entry = heap[0]
            timer = entry[3]
            if timer.callback is None:
                pop(heap)
                continue
            if entry[0] > until:
                break
            pop(heap)
            self.now = entry[0]
            callback = timer.callback
            timer.callback = None
            callback()
            ran += 1
        if until > self.now:
            self.now = until
        self.dispatched += ran
        return ran

    def step(self) -> bool:
        """Run the next due callback (advancing the clock to it); False if none is left."""
        when = self.next_time()
        if when is None:
            return False
        timer = heapq.heappop(self._heap)[3]
        self.now = timer.time
        callback = timer.callback
        timer.callback = None
        if callback is not None:
            callback()
            self.dispatched += 1
        return True

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if entry[3].callback is not None)
