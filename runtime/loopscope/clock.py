"""The loop clock a debug session runs on.

- wall: loop.time() is time.monotonic(), as without Loopscope.
- frozen (the default): loop.time() leaves out the time the program spent paused, so a pause in
  the debugger does not fire every timeout, sleep and call_later at once when it ends.
- virtual: as frozen, and when a loop has nothing ready and watches no file descriptor, its time
  jumps straight to the next timer (trio's MockClock with autojump_threshold=0).
time.monotonic() called by the program itself is never changed.

While the Debug Console awaits an expression on a held loop (consoleawait.py) the clock runs from
where it stopped, so that the expression's own sleeps and timeouts come due (virtual: jump to
them). When the expression held the rest of the program, the clock then goes back to where it
stopped: the program sees no time pass, as with any other look around. When it let the whole
loop run, the time that passed stays, as after a resume.

While a session records or replays (recording.py), BaseEventLoop.time is the recording's, which
writes each reading down or hands out the recorded one; live_time() is then the clock below.
Loopscope's own reads (views, stops, the virtual clock's jumps) go through peek(), so that they are
neither recorded nor taken from a replay.
"""

import math
import time

from . import asyncio_internals as internals
from . import registry
from .vocabulary import CLOCK_MODE_VALUES, ClockMode

_monotonic = time.monotonic
_original_time = internals.BaseEventLoop.time
_states = registry.states

# The most advanceClock moves the loop clock at once: some 31 years. More is a typing slip, and
# float loop times far beyond it lose the precision timers need (or overflow to infinity).
MAX_ADVANCE_SECONDS = 1e9


class Clock:
    def __init__(self):
        self.mode = ClockMode.WALL
        self.paused_at = None   # monotonic() when the current pause began
        self.offset = 0.0       # seconds taken out of every loop's time (pauses; advanceClock adds them back)
        self._console = None    # while the console awaits: [depth, paused_at, started, jumped, resumed meanwhile]

    def now(self):
        paused_at = self.paused_at
        return (paused_at if paused_at is not None else _monotonic()) - self.offset

    def pause(self):
        if self.mode != ClockMode.WALL and self.paused_at is None:
            self.paused_at = _monotonic()

    def resume(self):
        if self._console is not None:
            self._console[4] = True  # the program was let go while the console awaited: see console_ended
        paused_at, self.paused_at = self.paused_at, None
        if paused_at is not None:
            self.offset += _monotonic() - paused_at

    def advance(self, seconds):
        if self.mode == ClockMode.WALL:
            raise ValueError("the wall clock cannot be moved; set \"clock\" to \"frozen\" or \"virtual\" in launch.json")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
            raise ValueError("the loop clock moves by a finite number of seconds (got %r)" % (seconds,))
        if seconds < 0:
            raise ValueError("the loop clock only moves forward (got %r s)" % seconds)
        if seconds > MAX_ADVANCE_SECONDS:
            raise ValueError("the loop clock moves at most %g s (about 31 years) at a time (got %r s)"
                             % (MAX_ADVANCE_SECONDS, seconds))
        if not math.isfinite(self.now() + seconds):
            raise ValueError("moving the loop clock by %r s would take it past any time a float can hold" % seconds)
        self.offset -= seconds


    def console_started(self):
        """An await in the Debug Console begins: a paused clock runs on from where it stopped."""
        if self._console is not None:
            self._console[0] += 1
            return
        now = _monotonic()
        paused_at = self.paused_at
        if paused_at is not None:
            self.offset += now - paused_at
            self.paused_at = None
        self._console = [1, paused_at, now, 0.0, False]

    def console_jump(self, seconds):
        """Virtual clock, console await: nothing of the expression is ready, only its timers."""
        if self._console is not None and self.mode == ClockMode.VIRTUAL and seconds > 0 and math.isfinite(seconds):
            self.offset -= seconds
            self._console[3] += seconds

    def console_ended(self, keep_time):
        """keep_time: the whole loop ran, so the time stays; else the clock goes back to where it
        stopped (plus any advanceClock meanwhile). A clock that was running stays running."""
        console = self._console
        if console is None:
            return
        console[0] -= 1
        if console[0] > 0:
            return
        self._console = None
        _depth, paused_at, started, jumped, resumed = console
        if paused_at is None:
            return  # the wall clock, or not paused: nothing was changed
        now = _monotonic()
        if not keep_time:
            self.offset += (now - started) + jumped
        if not resumed:
            self.paused_at = now


clock = Clock()


def _loop_time(self):
    state = _states.get(id(self))
    return clock.now() + (state.clock_skew if state is not None else 0.0)


live_time = _loop_time  # the clock under a recording: frozen (wall: never paused) plus the loop's skew
_peek = None  # while recording or replaying: the recorder's peek(loop)


def peek(loop):
    """The loop's time now, as Loopscope itself reads it (never recorded, never taken from a replay)."""
    reader = _peek
    return reader(loop) if reader is not None else loop.time()


def install_taped(time_function, peek_function):
    """A recording session: loop.time() is time_function from now on; Loopscope reads through peek_function."""
    global _peek
    _peek = peek_function
    _taped_time[0] = time_function
    internals.BaseEventLoop.time = time_function


_taped_time = [None]


def autojump(loop, state):
    """Virtual clock, at an iteration boundary: if the loop would only sleep, skip the sleep."""
    timers = internals.scheduled_timers(loop)
    if internals.ready_queue(loop) or internals.is_stopping(loop) or not timers:
        return
    selector = internals.selector_of(loop)
    if selector is None or len(selector.get_map()) > 1:  # the loop's own wake-up pipe is always there
        return
    # A timer at an infinite (or NaN) time, asyncio.sleep(math.inf), never comes due: no jump for it.
    when = min((timer.when() for timer in timers if not timer.cancelled() and math.isfinite(timer.when())),
               default=None)
    if when is None:
        return
    ahead = when - peek(loop)
    if ahead > 0 and math.isfinite(state.clock_skew + ahead):
        state.clock_skew += ahead


def return_to_plain_clock(state):
    """Detach, on the loop's own thread at a boundary: from now on the loop's time is the plain
    clock's, and each of its timers keeps the time it had left (a frozen or virtual loop time runs
    behind the plain clock by the pauses taken out, or ahead by the virtual jumps). The loop's skew
    is set so that its time already equals the plain clock until uninstall() puts asyncio's own
    time() back for every loop."""
    loop = state.loop
    if clock.mode == ClockMode.WALL or loop is None or clock.paused_at is not None:
        return
    behind = clock.offset - state.clock_skew
    if behind and math.isfinite(behind):
        internals.shift_timers(loop, behind)
    state.clock_skew = clock.offset


def install(mode):
    """Put every loop on `mode` (a ClockMode)."""
    if mode not in CLOCK_MODE_VALUES:
        raise ValueError("clock must be one of %s, got %r" % (", ".join(CLOCK_MODE_VALUES), mode))
    clock.mode = mode
    internals.BaseEventLoop.time = _original_time if mode == ClockMode.WALL else _loop_time


def uninstall():
    global _peek
    clock.mode = ClockMode.WALL
    current = vars(internals.BaseEventLoop)["time"]
    if current is _loop_time or (_peek is not None and current is _taped_time[0]):  # a program's own wrapper stays
        internals.BaseEventLoop.time = _original_time
    _peek = None
