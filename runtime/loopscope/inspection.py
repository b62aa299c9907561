"""Frames, scopes, variables and evaluate for a held loop, valid until the program resumes.

Runs on the held loop's own thread (reprs and evaluate run user code). Every repr is guarded:
an exception or an oversized result becomes a readable error text, never a broken session.
"""

import itertools
import sys
import time
import types

from . import frames as frame_tools

MAX_VALUE_LENGTH = 1000
MAX_CHILDREN_PAGE = 1000
REPR_TIME_LIMIT = 1.0
_monotonic = time.monotonic
# Builtin reprs of scalars cannot run user code; containers can (their items' reprs), so they are timed.
_TRUSTED_REPRS = frozenset(t.__repr__ for t in (int, float, complex, bool, str, bytes, type(None)))
# Set by control.py: (task) -> [(name, value)] and (loop state) -> [(name, value)] for the synthetic scopes.
describe_task = None
describe_loop = None


# A function's frame, whose locals are not its globals. Asking frame.f_locals to find out would, up to
# 3.12, copy every local into a dict kept on the frame until it returns: a stale strong reference
# to whatever the program later drops (its "Task exception was never retrieved" never comes).
_CO_OPTIMIZED = 0x1


def frame_locals(frame):
    """A frame's locals as [(name, value)], leaving nothing behind. Up to 3.12, frame.f_locals of a
    function's frame is a snapshot dict kept on the frame (the dict locals() returns) until the frame
    returns: it would keep each value alive after the program rebinds or deletes the variable. So
    it is emptied again, unless the program holds that dict itself (then it is the program's), or a
    trace function runs on this thread: after a trace call CPython writes the dict back into the
    frame's variables (PyFrame_LocalsToFast), and an emptied one would delete them."""
    snapshot = frame.f_locals
    items = list(snapshot.items())
    if (sys.version_info < (3, 13) and frame.f_code.co_flags & _CO_OPTIMIZED and type(snapshot) is dict
            and sys.gettrace() is None and sys.getrefcount(snapshot) <= _SNAPSHOT_REFS):
        snapshot.clear()
    return items


# frame_locals' own references to an unshared snapshot: the frame's, its local name, getrefcount's argument
_SNAPSHOT_REFS = 3


class ReprTimeout(Exception):
    pass


def _timed_repr(value):
    """repr() that gives up after REPR_TIME_LIMIT seconds of Python code (a trace function checks
    the clock on every line; C code that loops forever cannot be interrupted this way)."""
    deadline = _monotonic() + REPR_TIME_LIMIT
    previous = sys.gettrace()

    def tracer(frame, event, arg):
        if _monotonic() > deadline:
            raise ReprTimeout()
        frame.f_trace_opcodes = True  # a loop on one line gives no line events, but opcode events
        return tracer
    sys.settrace(tracer)
    try:
        return repr(value)
    finally:
        sys.settrace(previous)


def safe_repr(value, limit=MAX_VALUE_LENGTH):
    try:
        text = repr(value) if type(value).__repr__ in _TRUSTED_REPRS else _timed_repr(value)
    except ReprTimeout:
        return "<repr took longer than %.1f s>" % REPR_TIME_LIMIT
    except BaseException as error:  # a user's __repr__ may raise anything, even SystemExit
        if isinstance(error, KeyboardInterrupt):
            raise
        return "<repr failed: %s: %s>" % (type(error).__name__, _short(error))
    if not isinstance(text, str):
        return "<repr returned %s, not str>" % type(text).__name__
    if len(text) > limit:
        text = text[:limit] + "… (%d characters)" % len(text)
    return text


def _short(error):
    try:
        return str(error)[:200]
    except BaseException:
        return "?"


def type_name(value):
    kind = type(value)
    module = getattr(kind, "__module__", "builtins")
    return kind.__qualname__ if module == "builtins" else "%s.%s" % (module, kind.__qualname__)


class StopInspection:
    """The reference tables for one stop: DAP frame ids and variablesReferences."""

    def __init__(self):
        self._ids = itertools.count(1)
        self.frames = {}      # frameId -> frame
        self.context = {}     # frameId -> (task, loop state) the frame belongs to
        self.containers = {}  # variablesReference -> ("locals", frame) | ("value", object) | ("pairs", [...])

    def add_frame(self, frame, task=None, state=None):
        ident = next(self._ids)
        self.frames[ident] = frame
        self.context[ident] = (task, state)
        return ident

    def _reference(self, kind, value):
        ident = next(self._ids)
        self.containers[ident] = (kind, value)
        return ident

    def scopes(self, frame_id):
        frame = self.frames.get(frame_id)
        if frame is None:
            raise LookupError("frame %d is gone: the program resumed since it was listed" % frame_id)
        scopes = [{"name": "Locals", "variablesReference": self._reference("locals", frame), "presentationHint": "locals"}]
        task, state = self.context.get(frame_id, (None, None))
        if task is not None and describe_task is not None:
            scopes.append({"name": "Task", "variablesReference": self._reference("pairs", describe_task(task))})
        if state is not None and describe_loop is not None:
            scopes.append({"name": "Event loop", "variablesReference": self._reference("pairs", describe_loop(state))})
        if frame.f_code.co_flags & _CO_OPTIMIZED:  # not frame.f_locals: see _CO_OPTIMIZED
            scopes.append({"name": "Globals", "variablesReference": self._reference("globals", frame), "expensive": True})
        return scopes

    def variables(self, reference, start=0, count=0):
        entry = self.containers.get(reference)
        if entry is None:
            raise LookupError("variables %d are gone: the program resumed since they were listed" % reference)
        kind, value = entry
        if kind == "locals":
            children = frame_locals(value)
        elif kind == "pairs":
            return [self._pair(name, item) for name, item in value[start:start + (count or MAX_CHILDREN_PAGE)]]
        elif kind == "globals":
            children = [(k, v) for k, v in value.f_globals.items() if not (k.startswith("__") and k.endswith("__"))]
        else:
            children = self._children(value)
        count = count or MAX_CHILDREN_PAGE
        return [self.variable(name, child) for name, child in children[start:start + count]]

    def _pair(self, name, item):
        """A synthetic row: text shows as is; anything else is a real object to expand."""
        if isinstance(item, str):
            return {"name": name, "value": item, "variablesReference": 0}
        return self.variable(name, item)

    def variable(self, name, value):
        result = {"name": str(name), "value": safe_repr(value), "type": type_name(value), "variablesReference": 0}
        if self._expandable(value):
            result["variablesReference"] = self._reference("value", value)
            if isinstance(value, (list, tuple)):
                result["indexedVariables"] = len(value)
        return result

    @staticmethod
    def _expandable(value):
        if isinstance(value, (str, bytes, bytearray, int, float, complex, bool, type(None), types.FunctionType,
                              types.BuiltinFunctionType, types.ModuleType)):
            return False
        if isinstance(value, (list, tuple, dict, set, frozenset)):
            return len(value) > 0
        try:
            return bool(getattr(value, "__dict__", None))
        except BaseException:
            return False

    @staticmethod
    def _children(value):
        if isinstance(value, dict):
            return [(safe_repr(k, 100), v) for k, v in itertools.islice(value.items(), 100000)]
        if isinstance(value, (list, tuple)):
            return [("[%d]" % i, v) for i, v in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            return [("<%d>" % i, v) for i, v in enumerate(itertools.islice(value, 100000))]
        try:
            attributes = vars(value)
        except BaseException:
            return []
        return sorted(attributes.items(), key=lambda item: str(item[0]))

    def evaluate(self, expression, frame_id=None):
        """Run what the user typed in the debugger, in the chosen frame. The only code we run on request."""
        frame = self.frames.get(frame_id) if frame_id is not None else None
        if frame_id is not None and frame is None:
            raise LookupError("frame %d is gone: the program resumed since it was listed" % frame_id)
        global_names = frame.f_globals if frame is not None else sys.modules["__main__"].__dict__
        local_names = frame.f_locals if frame is not None else global_names
        try:
            code = compile(expression, "<debug console>", "eval")
        except SyntaxError:
            code = compile(expression, "<debug console>", "exec")
            exec(code, global_names, local_names)
            return {"result": "", "variablesReference": 0}
        value = eval(code, global_names, local_names)
        described = self.variable("result", value)
        return {"result": described["value"], "type": described["type"],
                "variablesReference": described["variablesReference"]}


def frame_description(frame):
    return frame_tools.code_name(frame.f_code)

