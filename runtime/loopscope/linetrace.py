"""Line breakpoints and line stepping: which lines stop, and the tracer that watches them (lines,
the first lines of functions a function breakpoint names, exceptions raised, threads holding).

Cost only where needed: on 3.12+ sys.monitoring LINE events only in the code objects of files with
breakpoints, found as they start or resume (see MonitoringTracer); before 3.12 a sys.settrace
function that declines to trace any frame whose file has no breakpoint. While the user steps, every
line of user code is watched until the step ends; while the program is held, every line of user
code on the other threads, where they hold.
"""

import _thread
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


def _stops_nowhere(_frame):
    return False


_KEEP = object()  # update(): leave this setting as it is


class Tracer:
    """Calls on_line(frame) for lines that may matter: in files with breakpoints, or any user line
    while stepping or while the program is held (suspending: the other threads hold at their next
    line of user code); on_entry(frame) at the first line of a function a function breakpoint
    names (entries), which returns True if it stopped there; on_raise(frame, exception) where an
    exception is raised (catching: in user code, and where one from a library first reaches user
    code; with any_code, in any code); and, while stepping, on_return(frame) when a user frame
    returns or unwinds (not when a coroutine only suspends at an await). Backends differ by Python
    version; both honour the same switches."""

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None, on_entry=None):
        self.table = table
        self.on_line = on_line
        self.on_raise = on_raise   # (frame, exception) for the 'raised' filter
        self.on_return = on_return if on_return is not None else _ignore  # (frame) while stepping
        self.on_warning = on_warning if on_warning is not None else _ignore  # (message) for the user
        self.on_entry = on_entry if on_entry is not None else _stops_nowhere  # (frame) -> stopped?
        self.stepping = False
        self.catching = False      # report exceptions raised in user code
        self.any_code = False      # ...and in library code (justMyCode off)
        self.suspending = False    # the program is held: other threads hold at their next user line
        self.entries = None        # breakpoints.FunctionNames, or None
        self.generation = 0   # bumped on every change; settrace threads catch up at loop boundaries
        self.closed = False   # detached: every callback still installed takes itself out

    def close(self):
        """Detach: nothing is watched any more, and what is still installed goes at its next call."""
        self.closed = True
        self.table.by_path.clear()
        self.update(stepping=False, catching=False, any_code=False, suspending=False, entries=None)

    def update(self, stepping=None, catching=None, any_code=None, suspending=None, entries=_KEEP):
        if stepping is not None:
            self.stepping = stepping
        if catching is not None:
            self.catching = catching
        if any_code is not None:
            self.any_code = any_code
        if suspending is not None:
            self.suspending = suspending
        if entries is not _KEEP:
            self.entries = entries
        self.generation += 1
        self._apply()

    @property
    def active(self):
        return not self.closed and (self.stepping or self.catching or self.suspending or self.entries is not None
                                    or bool(self.table.by_path))

    def _reports(self, frame, tb):
        """An exception in frame, whose traceback starts at frame's entry (tb): report it where it was
        raised (in user code, or any code with any_code), and, without any_code, where one raised
        in a library first reaches user code. Both backends hear of it in every frame it passes."""
        filename = frame.f_code.co_filename
        below = tb.tb_next if tb is not None and tb.tb_frame is frame else None
        if below is None:
            return frame_tools.is_user_file(filename) or (self.any_code and not frame_tools.is_loopscope_file(filename))
        return not self.any_code and frame_tools.is_user_file(filename) and not _reached_user_code(below)


def _reached_user_code(tb):
    """Did an exception pass through user code on its way here (it was reported there)?"""
    while tb is not None:
        if frame_tools.is_user_file(tb.tb_frame.f_code.co_filename):
            return True
        tb = tb.tb_next
    return False


class MonitoringTracer(Tracer):
    """3.12+: sys.monitoring, with LINE events only where a line can stop the program.

    A line breakpoint watches only the code objects of its file: PY_START and PY_RESUME events
    (every location switched off after its first visit) find them as they start or resume, and each
    gets its own LINE events (set_local_events); so does such code already running on some thread
    when the breakpoints change. Code of other files costs one event per code location, once, not
    one per line. A function breakpoint keeps PY_START on only in the code objects it names, which
    get their own LINE events: the first one after a start is the function's first line. A line
    step watches every line (global LINE events, switched off location by location outside user
    code) and where frames return (PY_RETURN, PY_UNWIND); so does a held program, for the other
    threads, whose running user code also gets its own LINE events at once. Every change calls
    restart_events(), which switches every location back on, so code seen before the change is
    looked at again."""

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None, on_entry=None):
        super().__init__(table, on_line, on_raise, on_return, on_warning, on_entry)
        self._monitoring = sys.monitoring
        self._tool = None   # claimed only while something is watched, and given back after
        self._told = False
        # id(code) -> code, for the code objects given local LINE events. By identity: equal code
        # objects (a module executed twice) are distinct objects, each with its own events.
        self._watched = {}
        self._entry_codes = {}    # id(code) -> code a function breakpoint names
        self._entries_seen = None  # the entries _entry_codes were found for
        self._suspend_codes = {}  # id(code) -> code running in user frames when the program was held
        self._entering = {}       # id(frame) -> frame of a named function that started: its first line stops

    def _claim(self):
        # Not DEBUGGER_ID while another is free: the program may want it (pdb, a debugger of its own).
        tool = claim_monitoring_tool("loopscope", 4)
        if tool is None:
            if not self._told:
                self._told = True
                self.on_warning("Line breakpoints, function breakpoints, line steps and the exception filters cannot "
                                "work: the program holds all six sys.monitoring tool ids. Free one "
                                "(sys.monitoring.free_tool_id) to use them.")
            return False
        if tool in NAMED_MONITORING_TOOLS and not self._told:
            self._told = True
            self.on_warning("Loopscope uses sys.monitoring tool id %d (sys.monitoring.%s) for line breakpoints, "
                            "since the program holds ids 3 and 4; while any line breakpoint is set, "
                            "sys.monitoring.use_tool_id(%d) in the program raises ValueError."
                            % (tool, NAMED_MONITORING_TOOLS[tool], tool))
        events = self._monitoring.events
        for event, callback in ((events.LINE, self._line), (events.RAISE, self._raise),
                                (events.PY_START, self._started), (events.PY_RESUME, self._resumed),
                                (events.PY_RETURN, self._return), (events.PY_UNWIND, self._unwind)):
            self._monitoring.register_callback(tool, event, callback)
        self._tool = tool
        return True

    def _has_breakpoints(self, filename):
        by_path = self.table.by_path
        return filename in by_path or frame_tools.absolute(filename) in by_path

    def _wants_lines(self, code):
        """Does this code object need LINE events of its own?"""
        key = id(code)
        return key in self._entry_codes or key in self._suspend_codes or self._has_breakpoints(code.co_filename)

    def _watch(self, code):
        if id(code) not in self._watched:
            self._watched[id(code)] = code
            self._monitoring.set_local_events(self._tool, code, self._monitoring.events.LINE)

    def _started(self, code, _offset):
        """PY_START: code of a file with breakpoints gets its LINE events, a function a function
        breakpoint names its first line watched; any other location is switched off."""
        if self._has_breakpoints(code.co_filename):
            self._watch(code)
        entries = self.entries
        if entries is not None and code.co_name in entries.last_names:
            frame = sys._getframe(1)
            if id(code) in self._entry_codes or entries.matches(code, frame.f_globals):
                self._entry_codes[id(code)] = code
                self._watch(code)
                self._entering[id(frame)] = frame
                return None
        return self._monitoring.DISABLE

    def _resumed(self, code, _offset):
        """PY_RESUME: code of a file with breakpoints gets its LINE events; this location is
        switched off either way (a line breakpoint needs no more of these)."""
        if self._has_breakpoints(code.co_filename):
            self._watch(code)
        return self._monitoring.DISABLE

    def _line(self, code, line):
        entering = self._entering
        if entering:
            frame = sys._getframe(1)
            if entering.pop(id(frame), None) is not None and self.on_entry(frame):
                return None
        filename = code.co_filename
        if self.table.at(filename, line) is None and not (
                (self.stepping or self.suspending) and frame_tools.is_user_file(filename)):
            # A named function's lines stay on: its first line must report each start.
            return None if id(code) in self._entry_codes else self._monitoring.DISABLE
        self.on_line(sys._getframe(1))
        return None

    def _raise(self, code, _offset, exception):
        # RAISE comes in every frame the exception passes through, as settrace's 'exception' does.
        if self.catching:
            frame = sys._getframe(1)
            if self._reports(frame, exception.__traceback__):
                self.on_raise(frame, exception)

    def _return(self, code, _offset, _value):
        if not (self.stepping and frame_tools.is_user_file(code.co_filename)):
            return self._monitoring.DISABLE
        self.on_return(sys._getframe(1))
        return None

    def _unwind(self, code, _offset, _exception):
        # PY_UNWIND cannot be switched off location by location (no DISABLE here).
        if self.stepping and frame_tools.is_user_file(code.co_filename):
            self.on_return(sys._getframe(1))

    def _watch_running_code(self, wanted, record=None):
        """Code running now on any thread (this one's callers included) that wanted(code) picks,
        which may never start or resume again before it reaches the line that matters."""
        for frame in sys._current_frames().values():
            while frame is not None:
                code = frame.f_code
                if wanted(code):
                    if record is not None:
                        record[id(code)] = code
                    self._watch(code)
                frame = frame.f_back

    def _unwatch(self, keep):
        """Local LINE events off for watched code keep() no longer wants."""
        for code in list(self._watched.values()):
            if not keep(code):
                self._monitoring.set_local_events(self._tool, code, 0)
                self._watched.pop(id(code), None)

    def _apply(self):
        monitoring = self._monitoring
        kinds = monitoring.events
        if self.entries is not self._entries_seen:
            self._entries_seen = self.entries
            self._entry_codes = {}
            if self.entries is None:
                self._entering.clear()
        if not self.suspending:
            self._suspend_codes.clear()
        if self.active:
            if self._tool is None and not self._claim():
                return
            self._unwatch(self._wants_lines)
            lines = bool(self.table.by_path)
            events = 0
            if self.stepping:
                events |= kinds.LINE | kinds.PY_RETURN | kinds.PY_UNWIND
            if self.suspending:
                events |= kinds.LINE
            if lines:
                events |= kinds.PY_START | kinds.PY_RESUME
            if self.entries is not None:
                events |= kinds.PY_START
            if self.catching:
                events |= kinds.RAISE
            monitoring.set_events(self._tool, events)
            if lines:
                self._watch_running_code(lambda code: self._has_breakpoints(code.co_filename))
            if self.suspending:
                self._watch_running_code(lambda code: frame_tools.is_user_file(code.co_filename), self._suspend_codes)
            monitoring.restart_events()
        elif self._tool is not None:
            self._unwatch(lambda code: False)
            self._entering.clear()
            monitoring.set_events(self._tool, 0)
            for event in (kinds.LINE, kinds.RAISE, kinds.PY_START, kinds.PY_RESUME, kinds.PY_RETURN, kinds.PY_UNWIND):
                monitoring.register_callback(self._tool, event, None)
            monitoring.free_tool_id(self._tool)
            self._tool = None

    needs_thread_sync = False

    def sync_thread(self, frame=None, everything=None):
        """Nothing to do per thread: sys.monitoring covers every thread."""


class SettraceTracer(Tracer):
    """Before 3.12: sys.settrace on each thread, tracing only frames whose file matters.

    A thread gets the trace function when it starts (threading.settrace) while anything is
    watched, and a loop's thread catches up at its iteration boundaries; a thread that started
    before and runs no loop is not traced (there is no way to give another thread a trace function
    before 3.12). While the program is held, the user frames of the other threads get the line
    tracer, so that a traced thread holds at its next line even inside a frame that was running."""

    needs_thread_sync = True  # sys.settrace is per thread: loop threads catch up at their boundaries

    def __init__(self, table, on_line, on_raise=None, on_return=None, on_warning=None, on_entry=None):
        super().__init__(table, on_line, on_raise, on_return, on_warning, on_entry)
        self._installed = threading.local()
        self._told = False
        self._entering = {}     # id(frame) -> frame of a named function that started: its first line stops
        self._lent = None       # frames of other threads given the line tracer while the program is held

    def _wants(self, filename):
        """Trace a frame of this file line by line?"""
        if (self.stepping or self.catching or self.suspending) and frame_tools.is_user_file(filename):
            return True
        if self.catching and self.any_code and not frame_tools.is_loopscope_file(filename):
            return True
        return frame_tools.absolute(filename) in self.table.by_path

    def _global(self, frame, event, _arg):
        if self.closed:  # detached: this thread's trace function takes itself out
            sys.settrace(None)
            return None
        if event != "call":
            return None
        code = frame.f_code
        entries = self.entries
        if entries is not None and code.co_name in entries.last_names and _starting(frame) \
                and entries.matches(code, frame.f_globals):
            self._entering[id(frame)] = frame
            return self._local
        if self._wants(code.co_filename):
            return self._local
        return None

    def _local(self, frame, event, arg):
        # Frames of any file get here: sync_thread gives every frame on a held thread this tracer.
        if self.closed:
            return None  # this frame is not traced any more
        if event == "line":
            entering = self._entering
            if entering and entering.pop(id(frame), None) is not None and self.on_entry(frame):
                return self._local
            filename = frame.f_code.co_filename
            if self.table.at(filename, frame.f_lineno) is not None or (
                    (self.stepping or self.suspending) and frame_tools.is_user_file(filename)):
                self.on_line(frame)
        elif event == "return":
            if self.stepping and frame_tools.is_user_file(frame.f_code.co_filename) and _finished(frame):
                self.on_return(frame)
        elif event == "exception" and self.catching and self._reports(frame, arg[2]):
            self.on_raise(frame, arg[1])
        return self._local

    def _apply(self):
        # For threads started from now on; a hook of the program's own stays.
        if _threading_trace_hook() in (None, self._global):
            threading.settrace(self._global if self.active else None)
        if self.entries is None:
            self._entering.clear()
        if self.suspending and self._lent is None:
            self._lent = self._lend_line_tracer()
        elif not self.suspending and self._lent is not None:
            lent, self._lent = self._lent, None
            for frame in lent:
                if frame.f_trace is self._local and not self._wants(frame.f_code.co_filename):
                    frame.f_trace = None

    def _lend_line_tracer(self):
        """The user frames running on other threads get the line tracer (it acts on threads that have
        this trace function); the frames it was given to."""
        me = _thread.get_ident()
        lent = []
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            while frame is not None:
                if frame.f_trace is None and frame_tools.is_user_file(frame.f_code.co_filename):
                    frame.f_trace = self._local
                    lent.append(frame)
                frame = frame.f_back
        return lent

    def sync_thread(self, frame=None, everything=None):
        """On a loop's own thread (at a boundary or while held), a thread leaving a hold, or the main
        thread interrupted for it: trace as the settings say now, frames already running included. A
        trace function of the program's own stays: before 3.12 a thread has one, and it is the
        program's to set; the user is told why line breakpoints do not stop there. frame: the
        innermost frame to start from (default: the caller's); every frame from there gets the line
        tracer when everything (the default when frame is given: a pause inside busy code, a step
        from a held frame), else only those of files that matter."""
        current = sys.gettrace()
        if current is not None and current != self._global:
            if self.active:
                self._tell_about(current)
            return
        if getattr(self._installed, "generation", None) == self.generation:
            return
        self._installed.generation = self.generation
        sys.settrace(self._global if self.active else None)
        if not self.active:
            return
        if everything is None:
            everything = frame is not None
        frame = frame if frame is not None else sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if not frame_tools.is_loopscope_file(filename) and (everything or self._wants(filename)):
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
_RESUME = dis.opmap.get("RESUME")  # 3.11: a frame starts at its first RESUME


def _finished(frame):
    """At a 'return' trace event: the frame is done, not a generator or coroutine suspending at a
    yield or an await (which settrace reports as a return too)."""
    if not frame.f_code.co_flags & _SUSPENDING:
        return True
    return frame.f_code.co_code[frame.f_lasti] == _RETURN_VALUE


def _starting(frame):
    """At a 'call' trace event: the frame starts, not a generator or coroutine resuming (which
    settrace reports as a call too)."""
    if _RESUME is None:
        return frame.f_lasti < 0
    code = frame.f_code.co_code
    for offset in range(0, len(code), 2):
        if code[offset] == _RESUME:
            return frame.f_lasti <= offset
    return True


def make_tracer(table, on_line, on_raise=None, on_return=None, on_warning=None, on_entry=None):
    if internals.HAS_MONITORING:
        return MonitoringTracer(table, on_line, on_raise, on_return, on_warning, on_entry)
    return SettraceTracer(table, on_line, on_raise, on_return, on_warning, on_entry)
