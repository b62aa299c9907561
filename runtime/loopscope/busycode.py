"""Stopping a thread other than the main one inside the Python code it is busy running (a callback
that never returns to its loop): the thread itself calls back at its next line.

Signals reach only the main thread (pausing.py interrupts that one). Elsewhere: from 3.12
sys.monitoring LINE events on the code objects of that thread's stack; on 3.9-3.11 a C-level trace
function set on that thread's PyThreadState through ctypes (_PyEval_SetTrace, which CPython exports
from 3.9). 3.8 has neither: a busy loop on another thread there holds at its next handle.
Callbacks never raise: an error in either mechanism would surface in the program's own code.
"""

import _thread
import sys

from . import asyncio_internals as internals
from . import frames as frame_tools
from .linetrace import claim_monitoring_tool

try:
    import ctypes
except ImportError:  # a build without ctypes
    ctypes = None

_PY_TRACE_LINE = 2
# Source of the C trace function's body, compiled into a namespace of its own: the ctypes thunk may
# still be running on a thread when a detach drops this module, so it must not hold the module's
# globals (see _CTraceStops). Never raises: a C trace function's error becomes the program's.
_C_TRACE_SOURCE = """
def trace(_obj, _frame, what, _arg):
    try:
        target = box.get("target")
        if target is not None and what == 2:
            target(get_ident(), getframe(1))
    except BaseException:
        pass
    return 0
"""


def mechanism():
    """How busy code on another thread can be stopped here: 'monitoring', 'c-trace' or None."""
    if internals.HAS_MONITORING:
        return "monitoring"
    if ctypes is not None and sys.version_info >= (3, 9) and hasattr(ctypes.pythonapi, "_PyEval_SetTrace"):
        return "c-trace"
    return None


def make_busy_code_stops(on_stop, keep=None):
    """on_stop(frame) is called on a busy thread, inside its code, once per arm() (unless that arm
    gave a callback of its own). keep: a place that outlives this module (the attach marker) for what
    must (see _CTraceStops); None when launched. One thread is armed for one stop at a time: the
    latest arm() wins; owner lets disarm() take out only its own (the blocked-loop watchdog's)."""
    kind = mechanism()
    if kind == "monitoring":
        return _MonitoringStops(on_stop)
    if kind == "c-trace":
        return _CTraceStops(on_stop, keep)
    return _NoStops()


class _Armed:
    """One thread armed: the code it must be inside, whom to call there, and for whom."""
    __slots__ = ("codes", "on_stop", "owner", "tstate")

    def __init__(self, codes, on_stop, owner, tstate=None):
        self.codes, self.on_stop, self.owner, self.tstate = codes, on_stop, owner, tstate


class _NoStops:
    available = False

    def arm(self, ident, frame, on_stop=None, owner=None):
        return False

    def disarm(self, ident, owner=None):
        pass

    def disarm_all(self):
        pass


class _MonitoringStops:
    """3.12+: LINE events on the code of every frame of the busy thread's stack (its top frame may
    be a library's, called again and again from the user's loop); the first line that thread runs
    in any of them calls back. Other threads running the same code pass through (never DISABLE:
    that would switch the location off for the armed thread too)."""

    available = True

    def __init__(self, on_stop):
        self._on_stop = on_stop
        self._armed = {}   # thread ident -> set of code objects
        self._tool = None
        self._lock = _thread.allocate_lock()

    def arm(self, ident, frame, on_stop=None, owner=None):
        codes = _running_code(frame)
        if not codes:
            return False
        monitoring = sys.monitoring
        with self._lock:
            if self._tool is None:
                self._tool = claim_monitoring_tool("loopscope busy code", 4)
                if self._tool is None:
                    return False  # every tool id is taken
                monitoring.register_callback(self._tool, monitoring.events.LINE, self._line)
            self._armed[ident] = _Armed(codes, on_stop or self._on_stop, owner)
            for code in codes:
                monitoring.set_local_events(self._tool, code, monitoring.events.LINE)
        return True

    def _line(self, code, _line):
        try:
            armed = self._armed.get(_thread.get_ident())
            if armed is None or code not in armed.codes:
                return None
            self.disarm(_thread.get_ident())
            armed.on_stop(sys._getframe(1))
        except BaseException:
            pass
        return None

    def disarm(self, ident, owner=None):
        """ident's thread holds elsewhere (or no longer needs to): it is not stopped here any more."""
        monitoring = sys.monitoring
        with self._lock:
            armed = self._armed.get(ident)
            if armed is None or (owner is not None and armed.owner is not owner):
                return
            del self._armed[ident]
            if self._tool is None:
                return
            still_wanted = set().union(*(a.codes for a in self._armed.values())) if self._armed else set()
            for code in armed.codes - still_wanted:
                try:
                    monitoring.set_local_events(self._tool, code, 0)
                except ValueError:
                    pass
            if not self._armed:
                self._release()

    def _release(self):
        monitoring = sys.monitoring
        tool, self._tool = self._tool, None
        try:
            monitoring.set_events(tool, 0)
            monitoring.register_callback(tool, monitoring.events.LINE, None)
            monitoring.free_tool_id(tool)
        except ValueError:
            pass

    def disarm_all(self):
        for ident in list(self._armed):
            self.disarm(ident)


class _CTraceStops:
    """3.9-3.11: a C trace function on the busy thread's PyThreadState. The thread calls it at its
    next line and takes it off itself. The ctypes thunk is made once per process and kept where it
    outlives a detach (a held thread is inside it while the user looks around); it reaches the
    current runtime only through box["target"]."""

    available = True

    def __init__(self, on_stop, keep):
        self._on_stop = on_stop
        self._armed = {}  # thread ident -> PyThreadState address
        api = ctypes.pythonapi
        self._set_trace = api._PyEval_SetTrace
        self._set_trace.restype = ctypes.c_int
        self._set_trace.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
        thunk = getattr(keep, "c_trace_thunk", None) if keep is not None else None
        if thunk is None:
            namespace = {"box": {}, "get_ident": _thread.get_ident, "getframe": sys._getframe,
                         "__builtins__": __builtins__}
            exec(_C_TRACE_SOURCE, namespace)
            kind = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
            thunk = (kind(namespace["trace"]), namespace["box"])
            if keep is not None:
                keep.c_trace_thunk = thunk
        self._thunk, self._box = thunk
        self._box["target"] = self._line

    def arm(self, ident, frame, on_stop=None, owner=None):
        codes = _running_code(frame)
        tstate = _thread_state_of(frame) if codes else None
        if tstate is None:
            return False
        self._armed[ident] = _Armed(codes, on_stop or self._on_stop, owner, tstate)
        return self._set_trace(tstate, ctypes.cast(self._thunk, ctypes.c_void_p), None) == 0

    def _line(self, ident, frame):
        armed = self._armed.get(ident)
        if armed is None or frame.f_code not in armed.codes:
            return  # not in the busy callback (it returned): the loop holds at its next handle
        self.disarm(ident)
        armed.on_stop(frame)

    def disarm(self, ident, owner=None):
        """ident's thread holds elsewhere (or no longer needs to): its trace function goes."""
        armed = self._armed.get(ident)
        if armed is None or (owner is not None and armed.owner is not owner):
            return
        if self._armed.pop(ident, None) is armed:
            self._set_trace(armed.tstate, None, None)

    def disarm_all(self):
        self._box.pop("target", None)
        for ident in list(self._armed):
            self.disarm(ident)


_HANDLE_RUN = internals.ORIGINALS["handle_run"].__code__
_RUN_ONCE = internals.ORIGINALS["run_once"].__code__


def _running_code(top):
    """The code objects of the frames a loop's thread runs inside a callback (the callback and what
    it calls), or none when the thread is not inside one (asleep in select(), between handles): a
    callback that returns after all holds at the loop's next handle instead."""
    codes = set()
    for frame in frame_tools.thread_frames(top):
        if frame.f_code is _HANDLE_RUN:
            return codes
        if frame.f_code is _RUN_ONCE:
            return set()
        codes.add(frame.f_code)
    return set()


def _thread_state_of(frame):
    """The PyThreadState whose current frame is frame (the top of some thread's stack), or None."""
    api = ctypes.pythonapi
    for name, restype, argtypes in (("PyInterpreterState_Main", ctypes.c_void_p, ()),
                                    ("PyInterpreterState_ThreadHead", ctypes.c_void_p, (ctypes.c_void_p,)),
                                    ("PyThreadState_Next", ctypes.c_void_p, (ctypes.c_void_p,)),
                                    ("PyThreadState_GetFrame", ctypes.c_void_p, (ctypes.c_void_p,)),
                                    ("Py_DecRef", None, (ctypes.c_void_p,))):
        function = getattr(api, name)
        function.restype, function.argtypes = restype, argtypes
    tstate = api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Main())
    while tstate:
        current = api.PyThreadState_GetFrame(tstate)  # a new reference
        if current:
            api.Py_DecRef(current)
            if current == id(frame):
                return tstate
        tstate = api.PyThreadState_Next(tstate)
    return None
