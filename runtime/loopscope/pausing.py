"""Pause, which always lands: a loop asleep in select() is woken through its own wake-up pipe and
holds at its next boundary; a loop busy in a callback on the main thread, or the main thread busy
without a loop, is interrupted by a real-time signal whose handler holds right there, in the busy
frame. (A loop on another thread that never yields holds at its next handle: signals only reach the
main thread. Other threads that run no loop hold at their next line of user code: see linetrace.py.)
The same signal runs other work in the main thread's running frame (interrupt_main): the blocked-loop
watchdog's stop inside a blocked step, and, before 3.12, where a thread can only set its own trace
function, the main thread taking up new trace settings when it runs no loop (run_on_main_thread).
"""

import _thread
import collections
import signal
import threading
import time

from . import asyncio_internals as internals
from . import registry

# A real-time signal nobody else is likely to use; it interrupts busy code on the main thread.
PAUSE_SIGNAL = signal.NSIG - 2
# How long a woken loop gets to reach a boundary before the main thread is interrupted.
BUSY_PAUSE_DELAY = 0.3
_sleep = time.sleep


class Pausing:
    def __init__(self, hold_busy_code):
        """hold_busy_code(state, frame) holds the main thread inside running code: its loop's state,
        or None when it runs no loop."""
        self.pending = False          # a pause was asked for and has not landed yet
        self._hold_busy_code = hold_busy_code
        self._main_ident = threading.main_thread().ident
        self._signal_installed = False
        self._requests = collections.deque()  # interrupt_main's: each runs in the main thread's running frame

    def install_busy_pause(self):
        """On the main thread, before user code: the handler that stops busy code for pause."""
        if signal.getsignal(PAUSE_SIGNAL) in (signal.SIG_DFL, None):
            signal.signal(PAUSE_SIGNAL, self._on_signal)
            self._signal_installed = True

    def interrupt(self):
        """After pending was set: wake every loop, and interrupt the main thread if it stays busy."""
        for state in registry.loop_states():
            internals.wake(state.loop)
        if self._signal_installed:
            _thread.start_new_thread(self._interrupt_busy_main_thread, ())

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
        try:
            signal.pthread_kill(self._main_ident, PAUSE_SIGNAL)
        except (OSError, ValueError):
            try:
                self._requests.remove(request)
            except ValueError:
                pass
            return False
        return True

    def _interrupt_busy_main_thread(self):
        _sleep(BUSY_PAUSE_DELAY)
        if self.pending:
            try:
                signal.pthread_kill(self._main_ident, PAUSE_SIGNAL)
            except (OSError, ValueError):
                pass

    def run_on_main_thread(self, work):
        """work(frame) runs on the main thread at once, in the frame it is running (interrupting a
        sleep or a wait, which then goes on). False if the signal is not Loopscope's to send."""
        return self._signal_installed and self.interrupt_main(work)

    def _on_signal(self, _signum, frame):
        requests = self._requests
        while requests:  # one signal may stand for several requests; a later one sends its own
            requests.popleft()(frame)
        if not self.pending:
            return
        main_loops = [s for s in registry.loop_states() if s.thread_ident == self._main_ident]
        running = [s for s in main_loops if s.loop.is_running()] or main_loops
        # No loop on this thread: the main thread holds as a thread of its own (hold_busy_code(None, ...)).
        self._hold_busy_code(running[0] if running else None, frame)
