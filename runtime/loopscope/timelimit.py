"""Time limits for the program's code that the debugger runs while a loop is held: reprs in
Variables, and what the user evaluates.

A trace function cannot do this: a stop at a line breakpoint or a step is served from inside a
trace (or sys.monitoring) callback, where CPython turns tracing off. Instead one watchdog thread
raises TimeLimitExceeded in the overrunning thread, as an asynchronous exception
(PyThreadState_SetAsyncExc), which the interpreter delivers between bytecodes whatever is tracing.
It is a BaseException, so a user's `except Exception` does not swallow it, and it is raised again
every REPEAT seconds until the code gives up. C code that never returns to the interpreter cannot
be interrupted. Where ctypes is missing, code runs without a limit.
"""

import _thread
import os
import time

from .forking import ResidentThread

try:
    import ctypes
    _set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    _set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
    _set_async_exc.restype = ctypes.c_int
except (ImportError, AttributeError):  # a build without ctypes
    ctypes = None

REPEAT = 0.1
_monotonic = time.monotonic


class TimeLimitExceeded(BaseException):
    """Raised into code that ran past its time limit; never reaches the program."""


class _Watchdog:
    """One thread (started with _thread, so the program's threading.enumerate() does not list
    it) watching at most one limited call per program thread."""

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        self._deadlines = {}  # thread ident -> deadline
        self._fired = set()   # thread idents TimeLimitExceeded was raised into (maybe still pending)
        self._pid = None
        self._thread = ResidentThread(self._watch, self._wake_up)  # it steps aside while the program forks

    def run(self, seconds, function, *args):
        ident = _thread.get_ident()
        with self._lock:
            if ident in self._deadlines:  # nested (a repr inside an evaluate): the outer limit holds
                return function(*args)
            self._deadlines[ident] = _monotonic() + seconds
            self._start_if_needed()
        try:
            return function(*args)
        finally:
            with self._lock:
                self._deadlines.pop(ident, None)  # gone already in a child forked by the limited call
                fired = ident in self._fired
                self._fired.discard(ident)
            if fired:
                _absorb_pending()

    def start(self):
        """Starts the watchdog thread unless this process has it (a forked child does not)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread.start()

    def _start_if_needed(self):
        if self._pid != os.getpid():
            self.start()
        else:
            self._wake_up()

    def _wake_up(self):
        try:
            self._wake.release()
        except RuntimeError:
            pass  # awake already

    def _watch(self, stepping_aside):
        pid = os.getpid()
        while self._pid == pid and not stepping_aside():
            with self._lock:
                now = _monotonic()
                for ident, deadline in self._deadlines.items():
                    if now >= deadline:
                        _set_async_exc(ident, id(TimeLimitExceeded))
                        self._fired.add(ident)
                pending = list(self._deadlines.values())
            if not pending:
                self._wake.acquire()  # until the next limited call
                continue
            wait = max(0.0, min(pending) - _monotonic())
            self._wake.acquire(True, wait if wait > 0 else REPEAT)


def _noop():
    pass


def _absorb_pending():
    """Takes delivery of a TimeLimitExceeded still pending for this thread (set again by the
    watchdog while the first one unwound): the interpreter hands it over at the start of a Python
    call. (Taking it back with PyThreadState_SetAsyncExc(NULL) instead would leave 3.11's eval
    breaker set, which spins forever at the next traced function entry.)"""
    try:
        _noop()
    except TimeLimitExceeded:
        pass


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    # A fork child has no watchdog thread, and a lock held at the fork would stay held.
    os.register_at_fork(after_in_child=_watchdog.__init__)


def start():
    """Starts the watchdog now, with the debugger, rather than at the first limited call: a thread
    that appeared in the middle of the program could be taken for one of the program's (CPython's
    own tests count threads before and after each test)."""
    if ctypes is not None:
        with _watchdog._lock:
            _watchdog.start()


def run_limited(seconds, function, *args):
    """function(*args), interrupted with TimeLimitExceeded after `seconds` of running."""
    if ctypes is None:
        return function(*args)
    return _watchdog.run(seconds, function, *args)
