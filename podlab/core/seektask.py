"""A consumer's seek that runs in a task of its own, slice by slice (the lab's ``lab.seek``
and the classroom console's ``classroom.seek``): between slices the socket's other messages
are served, and one of them may stop the seek after its current slice."""

from __future__ import annotations

import asyncio
from contextlib import suppress


class SeekTask:
    """Mixin for a consumer with ``_failed(exc, what)``: ``seeking`` is the seek's task."""

    seeking: asyncio.Task[None] | None = None

    def _seeking(self) -> bool:
        return self.seeking is not None and not self.seeking.done()

    def _seek_ended(self) -> None:
        """Called by the seek's task as it ends: it is no longer the seek under way."""
        if self.seeking is asyncio.current_task():
            self.seeking = None

    async def _seek_failed(self, exc: Exception, what: str) -> None:
        """The seek's task failed: answered as a failed message of type ``what`` would be."""
        self._seek_ended()
        await self._failed(exc, what)  # type: ignore[attr-defined]

    async def _stop_seek(self) -> bool:
        """Stop the seek under way after its current slice, between two moments of the
        simulation; whether there was one."""
        task, self.seeking = self.seeking, None
        if task is None or task.done() or task is asyncio.current_task():
            return False
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        return True
