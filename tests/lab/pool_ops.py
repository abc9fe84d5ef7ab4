"""Operations for a test pool: what a hostile lab can make a worker do, without the engine."""

import os
import time


def echo(labs, lab_id, *, value):
    labs[lab_id] = value
    return {"value": value, "pid": os.getpid(), "held": labs.get(lab_id)}


def held(labs, lab_id):
    return labs.get(lab_id)


def spin(labs, lab_id, *, seconds):
    """Pure Python work: the CPU timer interrupts it."""
    labs[lab_id] = "spinning"
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def hog(labs, lab_id, *, mib):
    """Hold ``mib`` MiB: past the worker's address-space cap this is a MemoryError."""
    labs[lab_id] = [bytearray(1024 * 1024) for _ in range(mib)]
    return len(labs[lab_id])


def stuck(labs, lab_id):
    """Spin inside one C call (no bytecode runs, so the CPU timer's handler cannot): only
    the server's guard, which reads the worker's CPU time, ends it."""
    return sum(range(10**12))


#: the labs whose ticks this worker has run, in order
TICKED: list[int] = []


def tick(labs, lab_id, *, seconds):
    """A clock tick (the worker runs a learner's own requests before the ticks queued)."""
    spin(labs, lab_id, seconds=seconds)
    TICKED.append(lab_id)
    return lab_id


def ticked(labs, lab_id):
    return list(TICKED)


def crash(labs, lab_id):
    os._exit(3)


def drop(labs, lab_id):
    labs.pop(lab_id, None)


OPS = {"echo": echo, "held": held, "spin": spin, "hog": hog, "stuck": stuck, "crash": crash,
       "drop": drop, "tick": tick, "ticked": ticked}
