"""Python threads that run no event loop: the main thread before and after asyncio.run, threading
threads, run_in_executor and to_thread workers. Each is a DAP thread of its own while it runs no loop
Loopscope knows (a thread that runs one is shown as that loop), with an id from the space loops and
tasks share, kept while the same thread lives.

Loopscope's own threads (the channel, the watchdog, a repr worker) are never listed: each began in
Loopscope's code, with _thread, so threading does not know them. The main thread began there too,
and is the program's.
"""

import _thread
import sys
import threading
import weakref

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry

_get_ident = _thread.get_ident
_MAIN_IDENT = threading.main_thread().ident
# threading's table of the threads it started (or met, as dummies): a dict lookup tells a program
# thread without walking its frames.
_THREADING_ACTIVE = getattr(threading, "_active", {})
_DUMMY_THREAD = getattr(threading, "_DummyThread", ())


class ThreadState:
    """A thread that runs no loop, where a stop keeps a loop's state: no loop, no iterations."""

    is_loop = False
    loop = None
    iteration = 0
    run_number = 0
    record = None  # recording.py records loops only
    __slots__ = ("id", "thread_ident", "thread_ref", "_fallback_name", "no_wait", "held")

    def __init__(self, ident, thread):
        self.id = registry.new_id()
        self.thread_ident = ident
        self.thread_ref = weakref.ref(thread) if thread is not None else None
        self._fallback_name = "thread %d" % ident
        self.no_wait = False
        self.held = False  # the debugger is serving a stop on this thread

    @property
    def thread_name(self):
        thread = self.thread_ref() if self.thread_ref is not None else None
        name = getattr(thread, "_name", None)  # Thread.name is a property the program may override
        return name if isinstance(name, str) else self._fallback_name

    @property
    def name(self):
        return "Thread %s" % self.thread_name

    @property
    def label(self):
        """The name as it reads inside a sentence."""
        return "thread %s" % self.thread_name


def _threading_thread(ident):
    """The program's threading.Thread for a thread ident (not a dummy threading made up), or None."""
    thread = _THREADING_ACTIVE.get(ident)
    return None if thread is None or isinstance(thread, _DUMMY_THREAD) else thread


def is_own(ident, top):
    """True for a thread of Loopscope's: not the main thread, not one threading started, and its
    outermost frame is Loopscope's. top is the thread's innermost frame."""
    if ident == _MAIN_IDENT or _threading_thread(ident) is not None:
        return False
    bottom = top
    while top is not None:
        bottom, top = top, top.f_back
    return bottom is not None and frame_tools.is_loopscope_file(bottom.f_code.co_filename)


def running_loop_threads():
    """The idents of the threads that run a loop Loopscope knows, now."""
    idents = set()
    for state in registry.loop_states():
        loop = state.loop
        ident = internals.running_thread(loop) if loop is not None else None
        if ident is not None:
            idents.add(ident)
    return idents


def _same_thread(state, thread):
    """Is this the thread the state was made for? (An ident is reused once its thread has ended.)"""
    return thread is None if state.thread_ref is None else state.thread_ref() is thread


class PlainThreads:
    def __init__(self):
        self._by_ident = {}  # ident -> ThreadState
        self._lock = threading.Lock()
        self._left_alone = frozenset()

    def leave_alone(self, ident):
        """Treat a thread as Loopscope's own: never held, never listed (a test's thread that plays
        the adapter, in-process)."""
        self._left_alone = self._left_alone | {ident}

    def _ignored(self, ident, top):
        return ident in self._left_alone or is_own(ident, top)

    def current(self, frame):
        """The calling thread's state; None on one of Loopscope's own threads. frame: the
        calling thread's innermost frame."""
        ident = _get_ident()
        if self._ignored(ident, frame):
            return None
        return self._state(ident)

    def _state(self, ident):
        thread = _threading_thread(ident)
        state = self._by_ident.get(ident)
        if state is not None and _same_thread(state, thread):
            return state
        with self._lock:  # one id per thread, whichever thread asks first
            state = self._by_ident.get(ident)
            if state is None or not _same_thread(state, thread):
                state = self._by_ident[ident] = ThreadState(ident, thread)
            return state

    def by_id(self, thread_id):
        for state in list(self._by_ident.values()):
            if state.id == thread_id:
                return state
        return None

    def listed(self):
        """The states of the program's live threads that run no loop: the main thread first, then
        in the order they were first seen. Threads that ended are forgotten."""
        frames = sys._current_frames()
        loops = running_loop_threads()
        states = [self._state(ident) for ident, top in frames.items()
                  if ident not in loops and not self._ignored(ident, top)]
        with self._lock:
            for ident in [i for i in self._by_ident if i not in frames]:
                del self._by_ident[ident]
        frames = None
        states.sort(key=lambda s: (s.thread_ident != _MAIN_IDENT, s.id))
        return states

    def others_may_run(self):
        """True if a program thread other than the calling one runs no loop: it would go on running
        while the program is held, unless held at its next line."""
        me = _get_ident()
        loops = running_loop_threads()
        for ident, top in sys._current_frames().items():
            if ident != me and ident not in loops and not self._ignored(ident, top):
                return True
        return False

    def forget_all(self):
        """In a forked child: the parent's threads are gone."""
        with self._lock:
            self._by_ident.clear()
