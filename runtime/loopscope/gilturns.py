"""Loopscope's threads get their turn at the GIL beside a loop that never waits.

A loop whose tasks are always ready calls select(0): its thread lets go of the GIL for a few
microseconds and takes it back before a thread woken for the GIL has run, and CPython's forced
switch never comes, since the GIL did change hands. A thread of Loopscope's with a request from the
adapter then waits for seconds: a pause took up to 2.4 s and a session's start up to 8 s on 3.8 and
3.12. So each instrumented iteration (instrument.py) asks, at most every CHECK_EVERY seconds,
whether a descriptor a Loopscope thread reads has bytes waiting or a Loopscope thread has work in
hand; if so the loop's thread waits until that thread is done, GIVE_UP seconds at most.
"""

import _thread
import contextlib
import select
import threading

CHECK_EVERY = 0.001
# A Loopscope thread that has the GIL needs it again after each system call; this is time enough to
# answer a request, and short enough that a request that waits for the loop costs little.
GIVE_UP = 0.02
_READY = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


class Turns:
    def __init__(self):
        self.next_check = 0.0       # perf_counter time of the next check (read by the hot path)
        self._poll = select.poll()  # not for two threads at once: a loop's thread that finds it busy moves on
        self._polling = _thread.allocate_lock()
        self._fds = set()
        self._busy = 0              # Loopscope threads with work in hand (working())
        self._done = threading.Event()

    def watch(self, fd):
        """fd (a Loopscope thread reads it) having bytes to read means that thread wants the GIL."""
        with self._polling:
            self._poll.register(fd, select.POLLIN)
            self._fds.add(fd)

    def unwatch(self, fd):
        """Before fd closes: a number the program may get next must not be watched."""
        with self._polling:
            if fd in self._fds:
                self._fds.discard(fd)
                self._poll.unregister(fd)
        self._done.set()

    def done(self):
        """A Loopscope thread has served what it read: a loop waiting for it runs on."""
        self._done.set()

    @contextlib.contextmanager
    def working(self):
        """A Loopscope thread's work that loops must leave the GIL for."""
        self._busy += 1  # under the GIL, as every change of this count
        try:
            yield
        finally:
            self._busy -= 1
            self._done.set()

    def share(self, now):
        """On a loop's thread at an iteration boundary, when now >= next_check."""
        self.next_check = now + CHECK_EVERY
        if not self._busy and not self._fds:
            return
        self._done.clear()
        if self._busy or self._bytes_waiting():
            self._done.wait(GIVE_UP)

    def _bytes_waiting(self):
        if not self._polling.acquire(False):
            return False
        try:
            return any(events & _READY for _fd, events in self._poll.poll(0))
        finally:
            self._polling.release()


turns = Turns()
