"""The worker operations of the lab and the classroom, for a test pool, with one change: a room
whose Pod is called ``ballast`` holds ``BALLAST_MIB`` more MiB in its worker at every tick of
its clock, as a room whose simulation outgrows its worker would, until the worker's memory
cap (``RLIMIT_AS``) turns the next allocation into a MemoryError. Everything else is the real
thing: the worker's handling, the console's and the students' sockets."""

from __future__ import annotations

from typing import Any

from podlab.classroom import runner as room_runner
from podlab.classroom.sim import RoomSim
from podlab.lab import runner as lab_runner

BALLAST_MIB = 256


def _holds_ballast(sim: Any) -> bool:
    return isinstance(sim, RoomSim) and any(
        pod["metadata"]["name"] == "ballast" for pod in sim.lab.sim.pods())


def tick(labs: dict[int, Any], lab_id: int, **kwargs: Any) -> dict[str, Any]:
    answer = room_runner.tick(labs, lab_id, **kwargs)
    sim = labs.get(lab_id)
    if _holds_ballast(sim):
        held = sim.__dict__.setdefault("ballast", [])
        # calloc: counted by RLIMIT_AS at once, never touched (no page faults, no CPU)
        held.append(bytes(BALLAST_MIB * 1024 * 1024))
    return answer


def held_mib(labs: dict[int, Any], lab_id: int) -> int:
    sim = labs.get(lab_id)
    return BALLAST_MIB * len(getattr(sim, "ballast", []))


OPS = {**lab_runner.OPS, **room_runner.OPS, "room.tick": tick, "test.held_mib": held_mib}
