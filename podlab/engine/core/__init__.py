"""The engine's small core, shared by every component: the simulated clock and its event
loop (``loop``), the version and epoch (``version``), resource quantities (``quantity``), v1
Events (``events``) and the container state machine (``transitions``). It imports nothing else
from the engine.
"""
