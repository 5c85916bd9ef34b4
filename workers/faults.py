"""Fault points for the fault tests (tests/faults): a named point in the code where a
test can make the process die or an operation fail, to show that nothing is lost.

Nothing happens unless MEDIAMON_FAULT_POINTS names the point. A named point fires once
per Redis database (SET NX), so the worker that a test restarts gets past it.
"""

from __future__ import annotations

import os
import signal

from workers import services


def fires(point: str) -> bool:
    if point not in services.settings().fault_points:
        return False
    state = services.state()
    return bool(state.redis.set(state.key("fault-fired", point), 1, nx=True, ex=86_400))


def crash_at(point: str) -> None:
    """Die as a kill -9 would (no cleanup, no acknowledgement) the first time."""
    if fires(point):
        os.kill(os.getpid(), signal.SIGKILL)


def die_while(point: str, condition: bool) -> None:
    """Die as a kill -9 would each time ``condition`` holds: a poison input that kills
    every process that touches it (for the quarantine test)."""
    if condition and point in services.settings().fault_points:
        os.kill(os.getpid(), signal.SIGKILL)
