"""The body deadline's clock: the time reading is paused for the app (back pressure, a
pipelined request waiting) is the server's, and does not count against the client."""

from __future__ import annotations

from typing import Any

from shared.http_protocol import _TimedFlow


class _Transport:
    def __init__(self) -> None:
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def test_paused_seconds_add_up_the_pauses_the_current_one_included() -> None:
    now = [10.0]
    transport: Any = _Transport()
    flow = _TimedFlow(transport, lambda: now[0])
    assert flow.paused_s() == 0.0
    flow.pause_reading()
    now[0] = 13.0
    flow.pause_reading()  # already paused: the pause still began at 10
    assert (flow.paused_s(), transport.reading) == (3.0, False)
    flow.resume_reading()
    now[0] = 20.0
    assert (flow.paused_s(), transport.reading) == (3.0, True)
    flow.resume_reading()  # not paused: nothing to add
    flow.pause_reading()
    now[0] = 21.5
    assert flow.paused_s() == 4.5
