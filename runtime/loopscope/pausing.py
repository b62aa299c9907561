"""Pause, which always lands: a loop asleep in select() is woken through its own wake-up pipe and
holds at its next boundary; a loop busy in a callback on the main thread, or the main thread busy
without a loop, is interrupted by a real-time signal whose handler holds right there, in the busy
frame; a loop busy on another thread is stopped at its next line by busycode.py (3.9+; on 3.8 it
holds at its next handle). Other threads that run no loop hold at their next line of user code (see
linetrace.py). The same signal runs other work in the main thread's running frame (interrupt_main):
the blocked-loop watchdog's stop inside a blocked step, and, before 3.12, where a thread can only set
its own trace function, the main thread taking up new trace settings when it runs no loop
(run_on_main_thread).
"""

import _thread
import collections
import signal
import sys
import threading
import time

from . import asyncio_internals as internals
from . import processhooks
from . import registry
from .busycode import make_busy_code_stops

# A real-time signal nobody else is likely to use; it interrupts busy code on the main thread.
PAUSE_SIGNAL = signal.NSIG - 2
# How long a woken loop gets to reach a boundary before its busy code is interrupted.
BUSY_PAUSE_DELAY = 0.3
_sleep = time.sleep


class Pausing:
    def __init__(self, hold_busy_code, needs_hold, keep=None):
        """hold_busy_code(state, frame) holds a loop inside the code its thread is running (state
        None: the main thread, which runs no loop, holds as a thread of its own);
        needs_hold(state) says whether a loop still has to be held (the pause, or the all-stop that
        followed it, has not reached it). keep: see busycode.make_busy_code_stops."""
        self.pending = False          # a pause was asked for and has not landed yet
        self._hold_busy_code = hold_busy_code
        self._needs_hold = needs_hold
        self._main_ident = threading.main_thread().ident
        self._signal_installed = False
        self._busy_code = make_busy_code_stops(self._on_busy_code, keep)
        self._requests = collections.deque()  # interrupt_main's: each runs in the main thread's running frame

    def install_busy_pause(self):
        """Before user code (or when attaching): the handler that stops busy code on the main thread for pause."""
        self._signal_installed = processhooks.handle_signal(PAUSE_SIGNAL, self._on_signal)

    def interrupt(self, delay=BUSY_PAUSE_DELAY):
        """After pending was set: wake every loop, and interrupt the busy ones that have not held
        after delay seconds."""
        for state in registry.loop_states():
            internals.wake(state.loop)
        _thread.start_new_thread(self._interrupt_busy_code, (delay,))

    @property
    def main_ident(self):
        return self._main_ident

    @property
    def can_interrupt_main(self):
        return self._signal_installed

    def interrupt_main(self, request):
        """Now: request(frame) runs in the main thread, in the frame it is running (a call blocked
        in C, such as time.sleep, is interrupted; it carries on after request returns)."""
        self._requests.append(request)  # several may come before the handler runs: one signal, each runs
        if not processhooks.interrupt_main(PAUSE_SIGNAL, self._main_ident):
            try:
                self._requests.remove(request)
            except ValueError:
                pass
            return False
        return True

    def run_on_main_thread(self, work):
        """work(frame) runs on the main thread at once, in the frame it is running (interrupting a
        sleep or a wait, which then goes on). False if the signal is not Loopscope's to send."""
        return self._signal_installed and self.interrupt_main(work)

    def _interrupt_busy_code(self, delay):
        _sleep(delay)
        frames = sys._current_frames()
        try:
            # No loop runs anywhere: the main thread, busy without one, takes the pause. (With a loop
            # running, the pause is the loop's; the threads without one hold at their next line.)
            if self.pending and self._signal_installed and not any(s.loop.is_running() for s in registry.loop_states()):
                processhooks.interrupt_main(PAUSE_SIGNAL, self._main_ident)
            for state in registry.loop_states():
                if not self._needs_hold(state):
                    continue
                if state.thread_ident == self._main_ident:
                    if self._signal_installed:
                        processhooks.interrupt_main(PAUSE_SIGNAL, self._main_ident)
                elif state.thread_ident in frames:
                    self._busy_code.arm(state.thread_ident, frames[state.thread_ident])
        finally:
            frames = None

    def stop_in_busy_code(self, thread_ident, on_stop, owner):
        """on_stop(frame) on that thread (not the main one: see interrupt_main) at its next line
        inside the callback it runs, 3.9+; False when that cannot be arranged."""
        frame = sys._current_frames().get(thread_ident)
        try:
            return frame is not None and self._busy_code.arm(thread_ident, frame, on_stop, owner)
        finally:
            frame = None

    def forget_busy_code_stop(self, thread_ident, owner):
        """The stop_in_busy_code() made for owner is not wanted any more (if it has not landed)."""
        self._busy_code.disarm(thread_ident, owner)

    def why_busy_code_cannot_stop(self, state):
        """Why a loop busy on state's thread could only hold at its next handle, or None."""
        if state.thread_ident == self._main_ident:
            return None if self._signal_installed else "the program handles signal %d itself" % PAUSE_SIGNAL
        if self._busy_code.available:
            return None
        return "Python %d.%d cannot stop code running on a thread other than the main one from outside it" % sys.version_info[:2]

    def _on_busy_code(self, frame):
        state = next((s for s in registry.loop_states() if s.thread_ident == _thread.get_ident()), None)
        if state is not None and self._needs_hold(state):
            self._hold_busy_code(state, frame)

    def _on_signal(self, _signum, frame):
        requests = self._requests
        while requests:  # one signal may stand for several requests; a later one sends its own
            requests.popleft()(frame)
        main_loops = [s for s in registry.loop_states() if s.thread_ident == self._main_ident]
        if not main_loops:
            if self.pending:  # no loop on this thread: it holds as a thread of its own
                self._hold_busy_code(None, frame)
            return
        running = [s for s in main_loops if s.loop.is_running()] or main_loops
        if self._needs_hold(running[0]):
            self._hold_busy_code(running[0], frame)

    def holds(self, state):
        """state's loop holds (at a boundary, a handle or in code): no busy-code stop waits for it."""
        self._busy_code.disarm(state.thread_ident)

    def close(self):
        """Detach: no pause is pending and no busy code stays armed."""
        self.pending = False
        self._busy_code.disarm_all()
