"""Line breakpoints and line stepping: which lines stop, and the tracer that watches them.

Cost only where needed: on 3.12+ sys.monitoring LINE events only in the code objects of files with
breakpoints, found as they start or resume (see MonitoringTracer); before 3.12 a sys.settrace
function that declines to trace any frame whose file has no breakpoint. While the user steps, every
line of user code is watched until the step ends.
"""

import dis
import os
import re
import sys
import threading

from . import asyncio_internals as internals
from . import frames as frame_tools
from .breakpoints import hit_test, passes
from .inspection import frame_names, safe_repr

_INTERPOLATION = re.compile(r"\{([^{}]+)\}")


class LineBreakpoint:
    def __init__(self, ident, path, line, condition=None, hit_condition=None, log_message=None):
        self.id = ident
        self.path = path
        self.line = line
        self.condition = condition or None
        self.log_message = log_message or None
        self.hit_test = hit_test(hit_condition) if hit_condition and hit_condition.strip() else None
        if self.condition:
            compile(self.condition, "<condition>", "eval")
        self.hits = 0

    def hit(self):
        """Count a hit; True if the hit count says to stop."""
        self.hits += 1
        return passes(self.hit_test, self.hits)


def code_lines(path):
    """Every line of a source file that holds code, from its compiled code objects."""
    with open(path, "rb") as source_file:
        code = compile(source_file.read(), path, "exec", dont_inherit=True)
    lines, todo = set(), [code]
    while todo:
        current = todo.pop()
        if hasattr(current, "co_lines"):
            lines.update(line for _start, _end, line in current.co_lines() if line is not None)
        else:
            lines.update(line for _offset, line in dis.findlinestarts(current))
        todo.extend(const for const in current.co_consts if hasattr(const, "co_code"))
    lines.discard(0)
    return lines


class BreakpointTable:
    """Line breakpoints per file (absolute paths), as the adapter last set them."""

    def __init__(self):
        self.by_path = {}          # path -> {line: LineBreakpoint}
        self._next_id = 1000000    # apart from function breakpoint ids
        self.lock = threading.Lock()

    def set(self, path, specs, lines, problem=None, replace=True):
        """The breakpoints of one file, given its lines with code (sourcefiles.py reads them; None,
        with problem saying why, if it could not be read). With replace False, only the answer: a
        later request for the same file has the say."""
        path = os.path.abspath(path)
        with self.lock:
            return self._set(path, specs, lines or (), problem, replace)

    def _set(self, path, specs, lines, problem, replace):
        results, table = [], {}
        ordered = sorted(lines)
        for spec in specs:
            self._next_id += 1
            ident, wanted = self._next_id, spec["line"]
            result = {"id": ident, "verified": False, "line": wanted}
            if problem:
                result["message"] = problem
                results.append(result)
                continue
            actual = next((line for line in ordered if line >= wanted), None)
            if actual is None:
                result["message"] = "line %d has no code after it in %s" % (wanted, os.path.basename(path))
                results.append(result)
                continue
            try:
                breakpoint = LineBreakpoint(ident, path, actual, spec.get("condition"), spec.get("hitCondition"),
                                            spec.get("logMessage"))
            except (ValueError, SyntaxError) as error:
                result["message"] = getattr(error, "msg", None) or str(error)
                results.append(result)
                continue
            table[actual] = breakpoint
            result.update(verified=True, line=actual)
            if actual != wanted:
                result["message"] = "moved from line %d to the next line with code" % wanted
            results.append(result)
        if replace and table:
            self.by_path[path] = table
        elif replace:
            self.by_path.pop(path, None)
        return results

    def at(self, filename, line):
        table = self.by_path.get(filename) or self.by_path.get(frame_tools.absolute(filename))
        return table.get(line) if table else None

    def files(self):
        return frozenset(self.by_path)


def interpolate(message, frame):
    """A logpoint's text with each {expression} evaluated in the frame."""
    names = frame_names(frame)

    def value(match):
        try:
            result = eval(match.group(1), names)
        except Exception as error:
            return "<%s: %s>" % (type(error).__name__, error)
        return result if isinstance(result, str) else safe_repr(result, 500)
    return _INTERPOLATION.sub(value, message)


# The tool ids PEP 669 names, which a program (or pdb, coverage, a profiler) may ask for: taken last,
# the debugger's very last.
NAMED_MONITORING_TOOLS = {5: "OPTIMIZER_ID", 2: "PROFILER_ID", 1: "COVERAGE_ID", 0: "DEBUGGER_ID"}


def claim_monitoring_tool(name, first):
    """A free sys.monitoring tool id (3.12+), now ours: `first` if free, then the other id PEP 669
    leaves unnamed, then the named ones; None if all six are taken."""
    monitoring = sys.monitoring
    for tool in [first] + [i for i in (3, 4) if i != first] + list(NAMED_MONITORING_TOOLS):
        if monitoring.get_tool(tool) is None:
            try:
                monitoring.use_tool_id(tool, name)
            except ValueError:  # taken meanwhile by another thread
                continue
            return tool
    return None


def _ignore(_argument):
    pass


class Tracer:
    """Calls on_line(frame) for lines that may matter: in files with breakpoints, or any user line
    while stepping; and, while stepping, on_return(frame) when a user frame returns or unwinds (not
    when a coroutine only suspends at an await). Backends differ by Python version; both honour the
    same two switches."""

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None):
        self.table = table
        self.on_line = on_line
        self.on_raise = on_raise   # (frame, exception) for the 'raised' filter
        self.on_return = on_return if on_return is not None else _ignore  # (frame) while stepping
        self.on_warning = on_warning if on_warning is not None else _ignore  # (message) for the user
        self.stepping = False
        self.catching = False      # report exceptions raised in user code
        self.generation = 0   # bumped on every change; settrace threads catch up at loop boundaries
        self.closed = False   # detached: every callback still installed takes itself out

    def close(self):
        """Detach: nothing is watched any more, and what is still installed goes at its next call."""
        self.closed = True
        self.table.by_path.clear()
        self.update(stepping=False, catching=False)

    def update(self, stepping=None, catching=None):
        if stepping is not None:
            self.stepping = stepping
        if catching is not None:
            self.catching = catching
        self.generation += 1
        self._apply()

    @property
    def active(self):
        return not self.closed and (self.stepping or self.catching or bool(self.table.by_path))


class MonitoringTracer(Tracer):
    """3.12+: sys.monitoring, with LINE events only where a line can stop the program.

    A line breakpoint watches only the code objects of its file: PY_START and PY_RESUME events
    (every location switched off after its first visit) find them as they start or resume, and each
    gets its own LINE events (set_local_events); so does such code already running on some thread
    when the breakpoints change. Code of other files costs one event per code location, once, not
    one per line. A line step watches every line (global LINE events, switched off location by
    location outside user code) and where frames return (PY_RETURN, PY_UNWIND). Every change calls
    restart_events(), which switches every location back on, so code seen before the change is
    looked at again."""

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None):
        super().__init__(table, on_line, on_raise, on_return, on_warning)
        self._monitoring = sys.monitoring
        self._tool = None   # claimed only while something is watched, and given back after
        self._told = False
        # id(code) -> code, for the code objects given local LINE events. By identity: equal code
        # objects (a module executed twice) are distinct objects, each with its own events.
        self._watched = {}

    def _claim(self):
        # Not DEBUGGER_ID while another is free: the program may want it (pdb, a debugger of its own).
        tool = claim_monitoring_tool("loopscope", 4)
        if tool is None:
            if not self._told:
                self._told = True
                self.on_warning("Line breakpoints, line steps and the 'raised' filter cannot work: the program "
                                "holds all six sys.monitoring tool ids. Free one (sys.monitoring.free_tool_id) to "
                                "use them.")
            return False
        if tool in NAMED_MONITORING_TOOLS and not self._told:
            self._told = True
            self.on_warning("Loopscope uses sys.monitoring tool id %d (sys.monitoring.%s) for line breakpoints, "
                            "since the program holds ids 3 and 4; while any line breakpoint is set, "
                            "sys.monitoring.use_tool_id(%d) in the program raises ValueError."
                            % (tool, NAMED_MONITORING_TOOLS[tool], tool))
        events = self._monitoring.events
        for event, callback in ((events.LINE, self._line), (events.RAISE, self._raise),
                                (events.PY_START, self._entered), (events.PY_RESUME, self._entered),
                                (events.PY_RETURN, self._return), (events.PY_UNWIND, self._unwind)):
            self._monitoring.register_callback(tool, event, callback)
        self._tool = tool
        return True

    def _has_breakpoints(self, filename):
        by_path = self.table.by_path
        return filename in by_path or frame_tools.absolute(filename) in by_path

    def _watch(self, code):
        if id(code) not in self._watched:
            self._watched[id(code)] = code
            self._monitoring.set_local_events(self._tool, code, self._monitoring.events.LINE)

    def _entered(self, code, _offset):
        """PY_START or PY_RESUME: code of a file with breakpoints gets its LINE events; this
        location is switched off either way (a line breakpoint needs no more of these)."""
        if self._has_breakpoints(code.co_filename):
            self._watch(code)
        return self._monitoring.DISABLE

    def _line(self, code, line):
        filename = code.co_filename
        if self.table.at(filename, line) is None and not (self.stepping and frame_tools.is_user_file(filename)):
            return self._monitoring.DISABLE
        self.on_line(sys._getframe(1))
        return None

    def _raise(self, code, _offset, exception):
        if self.catching and frame_tools.is_user_file(code.co_filename):
            self.on_raise(sys._getframe(1), exception)

    def _return(self, code, _offset, _value):
        if not (self.stepping and frame_tools.is_user_file(code.co_filename)):
            return self._monitoring.DISABLE
        self.on_return(sys._getframe(1))
        return None

    def _unwind(self, code, _offset, _exception):
        # PY_UNWIND cannot be switched off location by location (no DISABLE here).
        if self.stepping and frame_tools.is_user_file(code.co_filename):
            self.on_return(sys._getframe(1))

    def _watch_running_code(self):
        """Code of a file with breakpoints that is running now (on any thread, this one's
        callers included) and may never start or resume again before it reaches the line."""
        for frame in sys._current_frames().values():
            while frame is not None:
                if self._has_breakpoints(frame.f_code.co_filename):
                    self._watch(frame.f_code)
                frame = frame.f_back

    def _unwatch(self, keep):
        """Local LINE events off for watched code whose file keep() no longer wants."""
        for code in list(self._watched.values()):
            if not keep(code.co_filename):
                self._monitoring.set_local_events(self._tool, code, 0)
                self._watched.pop(id(code), None)

    def _apply(self):
        monitoring = self._monitoring
        kinds = monitoring.events
        if self.active:
            if self._tool is None and not self._claim():
                return
            self._unwatch(self._has_breakpoints)
            lines = bool(self.table.by_path)
            monitoring.set_events(self._tool, (kinds.LINE | kinds.PY_RETURN | kinds.PY_UNWIND if self.stepping else 0)
                                  | (kinds.PY_START | kinds.PY_RESUME if lines else 0)
                                  | (kinds.RAISE if self.catching else 0))
            if lines:
                self._watch_running_code()
            monitoring.restart_events()
        elif self._tool is not None:
            self._unwatch(lambda filename: False)
            monitoring.set_events(self._tool, 0)
            for event in (kinds.LINE, kinds.RAISE, kinds.PY_START, kinds.PY_RESUME, kinds.PY_RETURN, kinds.PY_UNWIND):
                monitoring.register_callback(self._tool, event, None)
            monitoring.free_tool_id(self._tool)
            self._tool = None

    needs_thread_sync = False

    def sync_thread(self, frame=None):
        """Nothing to do per thread: sys.monitoring covers every thread."""


class SettraceTracer(Tracer):
    """Before 3.12: sys.settrace on each thread, tracing only frames whose file matters."""

    needs_thread_sync = True  # sys.settrace is per thread: loop threads catch up at their boundaries

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None):
        super().__init__(table, on_line, on_raise, on_return, on_warning)
        self._installed = threading.local()
        self._told = False

    def _global(self, frame, event, _arg):
        if self.closed:  # detached: this thread's trace function takes itself out
            sys.settrace(None)
            return None
        if event != "call":
            return None
        filename = frame.f_code.co_filename
        if (self.stepping or self.catching) and frame_tools.is_user_file(filename):
            return self._local
        if frame_tools.absolute(filename) in self.table.by_path:
            return self._local
        return None

    def _local(self, frame, event, arg):
        # Frames of any file get here: sync_thread gives every frame on a held thread this tracer.
        if self.closed:
            return None  # this frame is not traced any more
        if event == "line":
            if self.table.at(frame.f_code.co_filename, frame.f_lineno) is not None or (
                    self.stepping and frame_tools.is_user_file(frame.f_code.co_filename)):
                self.on_line(frame)
        elif event == "return":
            if self.stepping and frame_tools.is_user_file(frame.f_code.co_filename) and _finished(frame):
                self.on_return(frame)
        elif event == "exception" and self.catching and arg[2] is not None and arg[2].tb_next is None:
            # Raised here, not passing through from a frame below.
            self.on_raise(frame, arg[1])
        return self._local

    def _apply(self):
        # For threads started from now on; a hook of the program's own stays.
        if _threading_trace_hook() in (None, self._global):
            threading.settrace(self._global if self.active else None)

    def sync_thread(self, frame=None):
        """On a loop's own thread (at a boundary or while held): trace as the settings say now. A
        trace function of the program's own stays: before 3.12 a thread has one, and it is the
        program's to set; the user is told why line breakpoints do not stop there."""
        current = sys.gettrace()
        if current is not None and current != self._global:
            if self.active:
                self._tell_about(current)
            return
        if getattr(self._installed, "generation", None) == self.generation:
            return
        self._installed.generation = self.generation
        sys.settrace(self._global if self.active else None)
        if self.active and frame is not None:
            # Frames already running get their line tracer too (a pause inside busy code).
            while frame is not None:
                if not frame_tools.is_loopscope_file(frame.f_code.co_filename):
                    frame.f_trace = self._local
                frame = frame.f_back

    def _tell_about(self, trace_function):
        if self._told:
            return
        self._told = True
        self.on_warning(
            "The program set its own trace function (%s, with sys.settrace) on thread %s: before Python 3.12 "
            "a thread has only one, so Loopscope's line breakpoints and line steps do not stop in code that "
            "thread runs while it is set. Loopscope leaves it in place. On Python 3.12 or newer both work "
            "together." % (getattr(trace_function, "__qualname__", type(trace_function).__name__),
                           frame_tools.current_thread()[1]))


def _threading_trace_hook():
    gettrace = getattr(threading, "gettrace", None)  # 3.10+
    return gettrace() if gettrace is not None else getattr(threading, "_trace_hook", None)


_SUSPENDING = 0x20 | 0x80 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR
_RETURN_VALUE = dis.opmap["RETURN_VALUE"]


def _finished(frame):
    """At a 'return' trace event: the frame is done, not a generator or coroutine suspending at a
    yield or an await (which settrace reports as a return too)."""
    if not frame.f_code.co_flags & _SUSPENDING:
        return True
    return frame.f_code.co_code[frame.f_lasti] == _RETURN_VALUE


def make_tracer(table, on_line, on_raise=None, on_return=None, on_warning=None):
    if internals.HAS_MONITORING:
        return MonitoringTracer(table, on_line, on_raise, on_return, on_warning)
    return SettraceTracer(table, on_line, on_raise, on_return, on_warning)
