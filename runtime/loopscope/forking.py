"""Loopscope's resident threads (the channel's, the time limit's watchdog) step aside while the
program forks, and come back in the parent once it has forked. From Python 3.12 os.fork() warns
(DeprecationWarning) in a process the operating system counts more than one thread in: with these
threads there the program would see a warning it does not see without Loopscope. A child then also
inherits no lock one of them held. os.register_at_fork runs the "before" hooks registered first
last, so the program's own hooks still run while these threads are there.
"""

import _thread
import os
import time

from . import processhooks

STEP_ASIDE_TIME_LIMIT = 2.0  # a thread busy for longer stays; the program forks with it (and is warned)
_monotonic = time.monotonic
_sleep = time.sleep
_lock = _thread.allocate_lock()
_residents = []  # the ResidentThreads running now
_away = []       # those that stepped aside for the fork under way


class ResidentThread:
    """A thread of Loopscope's that is there for the whole session. body(stepping_aside) is its work:
    it returns when stepping_aside() says so, which wake() makes it look at soon (or when its work is
    over for good)."""

    def __init__(self, body, wake):
        self._body = body
        self._wake = wake
        self._decision = _thread.allocate_lock()  # stepping aside, or not: one of the two threads decides
        self._asked = self._leaving = False
        self._gone = None
        self.ident = self.native_id = None

    def start(self):
        """Start it, and return once it runs: a thread counted again before os.fork() returns."""
        running, self._gone = _thread.allocate_lock(), _thread.allocate_lock()
        running.acquire()
        self._gone.acquire()
        self._asked = self._leaving = False
        with _lock:
            _residents.append(self)
        _thread.start_new_thread(self._run, (running, self._gone))
        running.acquire()

    def _run(self, running, gone):
        self.ident = _thread.get_ident()
        self.native_id = _native_id()
        running.release()
        try:
            self._body(self._stepping_aside)
        finally:
            with _lock:
                if self in _residents:
                    _residents.remove(self)
            gone.release()

    def _stepping_aside(self):
        with self._decision:
            self._leaving = self._asked
            return self._leaving

    def _ask(self):
        self._asked = True
        self._wake()

    def _gone_within(self, seconds):
        """True once the thread has left its body; else it is told to stay."""
        if self._gone.acquire(True, max(0.0, seconds)):
            return True
        with self._decision:
            if not self._leaving:
                self._asked = False
                return False
        return self._gone.acquire()  # leaving: only the end of the thread is left to run


def _native_id():
    get_native_id = getattr(_thread, "get_native_id", None)
    return get_native_id() if get_native_id is not None else None


def _before_fork():
    try:
        _step_aside()
    except Exception:  # never the program's problem: it forks with the threads there, as it may be warned
        pass


def _step_aside():
    with _lock:
        leaving = [thread for thread in _residents if thread.ident != _thread.get_ident()]
    for thread in leaving:
        thread._ask()
    deadline = _monotonic() + STEP_ASIDE_TIME_LIMIT
    for thread in leaving:
        if thread._gone_within(deadline - _monotonic()):
            _away.append(thread)
    # Out of its body is not out of the process: the count os.fork() reads is the kernel's.
    for thread in _away:
        task = "/proc/self/task/%s" % thread.native_id
        while thread.native_id is not None and os.path.exists(task) and _monotonic() < deadline:
            _sleep(0.0002)


def _after_fork_in_parent():
    while _away:
        _away.pop(0).start()


def _after_fork_in_child():
    """The child has none of them: whoever needs one there starts it (a forked child runs free)."""
    global _lock
    _lock = _thread.allocate_lock()  # another thread may have held it at the fork
    del _away[:]
    del _residents[:]


processhooks.at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
