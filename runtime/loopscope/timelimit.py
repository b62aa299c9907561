"""Time limits for the program's code that the debugger runs while a loop is held (reprs in
Variables, and what the user evaluates), and alarms: a function called after a delay on the same
thread (a step's wait in select() is cut short by one).

A trace function cannot do this: a stop at a line breakpoint or a step is served from inside a
trace (or sys.monitoring) callback, where CPython turns tracing off. Instead one watchdog thread
raises TimeLimitExceeded in the overrunning thread, as an asynchronous exception
(PyThreadState_SetAsyncExc), which the interpreter delivers between bytecodes whatever is tracing.
It is a BaseException, so a user's `except Exception` does not swallow it, and it is raised again
every REPEAT seconds until the code gives up.

Code blocked inside C (time.sleep, a lock, a socket) runs no bytecode, so the exception would wait.
On the main thread the watchdog also sends a real-time signal: the blocking call returns EINTR,
the handler runs, and the exception is raised there. Signals reach only the main thread, so a repr
on another thread runs on a worker thread of Loopscope's (run_repr), which is abandoned to finish
alone when it overruns. Where ctypes is missing, code runs without a limit.
"""

import _thread
import os
import signal
import sys
import threading
import time

from . import processhooks
from .forking import ResidentThread
from .joinable import JoinableThread

try:
    import ctypes
    _set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    _set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
    _set_async_exc.restype = ctypes.c_int
except (ImportError, AttributeError):  # a build without ctypes
    ctypes = None

REPEAT = 0.1
# How long a resume waits for the idle repr worker to be gone for good (it takes microseconds; a
# machine busy with other work may not run the thread for a while).
WORKER_END_TIME_LIMIT = 5.0
_MAIN_IDENT = threading.main_thread().ident
# A real-time signal next to pausing.PAUSE_SIGNAL: it breaks a main-thread call blocked in C.
INTERRUPT_SIGNAL = signal.NSIG - 3
_monotonic = time.monotonic


class TimeLimitExceeded(BaseException):
    """Raised into code that ran past its time limit; never reaches the program."""


class _Watchdog:
    """One thread (started with _thread, so the program's threading.enumerate() does not list
    it) watching at most one limited call per program thread, and the alarms."""

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        self._deadlines = {}  # thread ident -> deadline
        self._alarms = {}     # Alarm -> deadline
        self._fired = set()   # thread idents TimeLimitExceeded was raised into (maybe still pending)
        self._pid = None
        self.interrupt_main = False  # the main thread has INTERRUPT_SIGNAL's handler
        self._thread = ResidentThread(self._watch, self._wake_up)  # it steps aside while the program forks

    def run(self, seconds, function, *args):
        ident = _thread.get_ident()
        with self._lock:
            nested = ident in self._deadlines
            if not nested:
                self._deadlines[ident] = _monotonic() + seconds
                self._start_if_needed()
        if nested:  # a repr inside an evaluate: the outer limit holds (and the lock is free for it)
            return function(*args)
        try:
            return function(*args)
        finally:
            # First one C call, which an exception cannot split: from here on the watchdog does
            # not aim at this thread. A TimeLimitExceeded it raised and that is still pending is
            # then taken here (or, arriving a moment earlier, leaves run() as the overrun it is).
            self._deadlines.pop(ident, None)  # gone already in a child forked by the limited call
            if ident in self._fired:
                with self._lock:  # the watchdog has finished any round that saw the deadline
                    pass
                _absorb_pending()
                self._fired.discard(ident)

    def alarm(self, seconds, function, *args):
        alarm = Alarm(function, args)
        with self._lock:
            self._alarms[alarm] = _monotonic() + seconds
            self._start_if_needed()
        return alarm

    def cancel(self, alarm):
        self._alarms.pop(alarm, None)  # one C call: no lock, so the hot path never waits for a round

    def start(self):
        """Starts the watchdog thread unless this process has it (a forked child does not)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread.start()

    def stop(self):
        with self._lock:
            self._pid = None  # _watch() leaves its loop
            self._deadlines.clear()
            self._alarms.clear()
            self.interrupt_main = False
            if self._wake.locked():
                self._wake.release()

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
                due = [alarm for alarm, deadline in list(self._alarms.items()) if now >= deadline]
                for alarm in due:
                    self._alarms.pop(alarm, None)
                for ident, deadline in list(self._deadlines.items()):  # run() disarms without the lock
                    if now < deadline:
                        continue
                    if ident == _MAIN_IDENT and self.interrupt_main:
                        # The handler raises in the main thread itself, also out of a call
                        # blocked in C, and only while this deadline is the thread's own.
                        processhooks.interrupt_main(INTERRUPT_SIGNAL, ident)
                    else:
                        _set_async_exc(ident, id(TimeLimitExceeded))
                        self._fired.add(ident)
                pending = list(self._deadlines.values()) + list(self._alarms.values())
            for alarm in due:  # outside the lock: an alarm may take its time
                alarm.ring()
            if not pending:
                self._wake.acquire()  # until the next limited call
                continue
            wait = max(0.0, min(pending) - _monotonic())
            self._wake.acquire(True, wait if wait > 0 else REPEAT)


class Alarm:
    """function(*args), called once on the watchdog thread when its time comes, unless cancelled."""

    __slots__ = ("_function", "_args")

    def __init__(self, function, args):
        self._function = function
        self._args = args

    def ring(self):
        try:
            self._function(*self._args)
        except Exception:
            pass  # the watchdog must go on watching


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
# A fork child has no watchdog thread, and a lock held at the fork would stay held.
processhooks.after_fork_in_child(_watchdog.__init__)


def start():
    """Starts the watchdog now, with the debugger, rather than at the first limited call: a thread
    that appeared in the middle of the program could be taken for one of the program's (CPython's
    own tests count threads before and after each test)."""
    with _watchdog._lock:
        _watchdog.start()


def alarm(seconds, function, *args):
    """Calls function(*args) on the watchdog thread in `seconds`, unless cancel(alarm) comes first
    (a call already under way is not stopped). Returns the alarm."""
    return _watchdog.alarm(seconds, function, *args)


def cancel(alarm):
    _watchdog.cancel(alarm)


def stop():
    """Detach: the watchdog thread and the idle repr worker end; nothing of them stays."""
    global _worker
    _watchdog.stop()
    with _worker_lock:
        if _worker is not None:
            _worker.stop()
        _worker = None


def run_limited(seconds, function, *args):
    """function(*args), interrupted with TimeLimitExceeded after `seconds` of running."""
    if ctypes is None:
        return function(*args)
    return _watchdog.run(seconds, function, *args)


def install_interrupt():
    """On the main thread, before user code: the handler that lets the watchdog break a call
    blocked in C. Left alone if the program's environment already uses the signal."""
    if ctypes is None:
        return
    _watchdog.interrupt_main = processhooks.handle_signal(INTERRUPT_SIGNAL, _on_interrupt)


def _on_interrupt(_signum, _frame):
    """The watchdog's signal: the main thread's limited call has overrun (running Python code or
    blocked in C, which the signal interrupts)."""
    # No lock: the handler may run while this very thread holds the watchdog's lock. A signal that
    # comes late finds no deadline, or one not yet passed, and does nothing.
    deadline = _watchdog._deadlines.get(_thread.get_ident())
    if deadline is not None and _monotonic() >= deadline:
        raise TimeLimitExceeded()


class _ReprWorker:
    """A thread of Loopscope's that runs reprs for a held thread other than the main one, so that a
    repr blocked in C can be given up on: the caller stops waiting, this worker is abandoned to
    finish alone, and the next repr gets a new worker. One job at a time. It lives for one stop:
    started by the stop's first such repr, ended (finish()) before the program runs again."""

    def __init__(self):
        self._start = _thread.allocate_lock()
        self._start.acquire()
        self._job = None
        self.abandoned = False
        self._thread = JoinableThread(self._serve)

    def _serve(self):
        while not self.abandoned:
            self._start.acquire()
            if self._job is None:  # finish()
                return
            function, args, seconds, result, done = self._job
            self._job = None
            try:
                result.append((True, _run_traced(seconds, function, *args)))
            except BaseException as error:  # a repr may raise anything
                result.append((False, error))
            done.release()
            function = args = result = done = None

    def finish(self):
        """Ends the thread and waits until it is gone for good (counted out by CPython too: a wait
        for its last line left a moment in which the program could still count it)."""
        self._job = None
        self._start.release()
        self._thread.join(WORKER_END_TIME_LIMIT)

    def stop(self):
        """End the thread if it waits for work; one still running an overrun repr finishes alone."""
        self.abandoned = True
        if self._job is None:
            self._start.release()

    def call(self, seconds, function, *args):
        """function(*args) here; TimeLimitExceeded if it has not returned in time."""
        result, done = [], _thread.allocate_lock()
        done.acquire()
        self._job = (function, args, seconds, result, done)
        self._start.release()
        if not done.acquire(True, seconds + 2 * REPEAT):
            self.abandoned = True
            raise TimeLimitExceeded()
        ok, value = result[0]
        if ok:
            return value
        raise value


def _run_traced(seconds, function, *args):
    """function(*args) with a trace function on this thread that raises TimeLimitExceeded at the
    first line or call past the deadline. Used on the repr worker instead of an asynchronous
    exception: one left pending for a thread that stays blocked in C keeps the eval breaker set for
    every thread, which spins CPython 3.11 forever at the next traced function entry."""
    sys.settrace(_Overrun(_monotonic() + seconds))
    try:
        return function(*args)
    finally:
        sys.settrace(None)


class _Overrun:
    """_run_traced's trace function, global and local. An object rather than a closure that returns
    itself: that would be a reference cycle, garbage left for the collector at every repr."""

    __slots__ = ("deadline",)

    def __init__(self, deadline):
        self.deadline = deadline

    def __call__(self, _frame, _event, _arg):
        if _monotonic() >= self.deadline:
            raise TimeLimitExceeded()
        return self


_worker = None
_worker_lock = _thread.allocate_lock()


def run_repr(seconds, function, *args):
    """function(*args), given up on after `seconds` even when it blocks inside C: on the main thread
    through the interrupt signal, elsewhere on a worker thread (thread-local state differs there)."""
    global _worker
    if ctypes is None:
        return function(*args)
    if _thread.get_ident() == _MAIN_IDENT and _watchdog.interrupt_main:
        return run_limited(seconds, function, *args)
    with _worker_lock:
        if _worker is None or _worker.abandoned or _worker_pid != os.getpid():
            _new_worker()
        return _worker.call(seconds, function, *args)


_worker_pid = None


def _new_worker():
    global _worker, _worker_pid
    _worker, _worker_pid = _ReprWorker(), os.getpid()


def end_repr_worker():
    """The program is about to run again: the repr worker this stop started, if any, ends now, so
    the program never meets a thread it did not start (CPython's tests count them; os.fork() warns
    about them). One abandoned in a repr that blocks is left to finish alone."""
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
        if worker is not None and not worker.abandoned and _worker_pid == os.getpid():
            worker.finish()
