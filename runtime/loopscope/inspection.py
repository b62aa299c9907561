"""Frames, scopes, variables and evaluate for a held loop, valid until the program resumes.

Runs on the held loop's own thread (reprs and evaluate run user code). Every repr is guarded:
an exception, an overlong run (timelimit.py) or an oversized result becomes a readable error
text, never a broken session.
"""

import itertools
import sys
import types

from . import asyncio_internals as internals
from .timelimit import TimeLimitExceeded, run_limited, run_repr

MAX_VALUE_LENGTH = 1000
MAX_CHILDREN_PAGE = 1000
REPR_TIME_LIMIT = 1.0
CONSOLE_TIME_LIMIT = 30.0  # an expression typed in the Debug Console
# Builtin reprs of scalars cannot run user code; containers can (their items' reprs), so they are timed.
_TRUSTED_REPRS = frozenset(t.__repr__ for t in (int, float, complex, bool, str, bytes, type(None)))


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
    if (internals.FRAME_LOCALS_IS_SNAPSHOT and frame.f_code.co_flags & _CO_OPTIMIZED and type(snapshot) is dict
            and sys.gettrace() is None and sys.getrefcount(snapshot) <= _SNAPSHOT_REFS):
        snapshot.clear()
    return items


# frame_locals' own references to an unshared snapshot: the frame's, its local name, getrefcount's argument
_SNAPSHOT_REFS = 3


def frame_names(frame, extra=()):
    """One namespace for eval in a frame (breakpoint conditions, logpoint expressions): its globals,
    its locals over them (read with frame_locals, so nothing is pinned), then `extra` where the
    program has no such name. A single dict also lets comprehensions see the locals."""
    names = dict(frame.f_globals) if frame is not None else {}
    if frame is not None:
        names.update(frame_locals(frame))
    for name, value in extra:
        names.setdefault(name, value)
    return names


def condition_holds(expression, frame, extra=()):
    """A breakpoint condition in a frame: True or False, or the exception it raised. A NameError
    is False: the condition names a local the code has not assigned yet."""
    try:
        return bool(eval(expression, frame_names(frame, extra)))
    except NameError:
        return False
    except Exception as error:
        return error


def safe_repr(value, limit=MAX_VALUE_LENGTH):
    try:
        text = repr(value) if type(value).__repr__ in _TRUSTED_REPRS else run_repr(REPR_TIME_LIMIT, repr, value)
    except TimeLimitExceeded:
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


# Types whose repr is CPython's own all the way down when their items' are too.
_PLAIN_SCALARS = (int, float, complex, bool, str, bytes, type(None))
_PLAIN_CONTAINERS = (tuple, list, dict, set, frozenset)
_PASSIVE_ITEM_BUDGET = 200
# Collections whose children are their items, paged by index.
_INDEXED = (list, tuple, dict, set, frozenset)


def passive_repr(value, limit=MAX_VALUE_LENGTH):
    """A repr that runs none of the program's code, for what views show without being asked
    (snapshot results and exceptions): values built from plain builtins, and exceptions of types
    that keep BaseException's repr, show in full; anything else as '<type object>'. A user's
    __repr__ with a side effect (counting its calls, say) must not run because a view refreshed.
    Variables and evaluate, which the user asks for, use safe_repr."""
    budget = [_PASSIVE_ITEM_BUDGET]
    if _plain(value, budget, 4):
        return safe_repr(value, limit)
    kind = type(value)
    if isinstance(value, BaseException) and kind.__repr__ is BaseException.__repr__ and kind.__str__ is BaseException.__str__:
        args = value.args
        if _plain(args, budget, 4):
            return safe_repr(value, limit)
        return "%s(…)" % kind.__qualname__
    return "<%s object>" % type_name(value)


def _plain(value, budget, depth):
    """True when repr(value) can run no user code: exact builtin types down to the leaves."""
    budget[0] -= 1
    if budget[0] < 0:
        return False
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind not in _PLAIN_CONTAINERS or depth == 0:
        return False
    items = itertools.chain.from_iterable(value.items()) if kind is dict else value
    return all(_plain(item, budget, depth - 1) for item in items)


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
    """The reference tables for one stop: DAP frame ids and variablesReferences. describe_task(task)
    and describe_loop(state) give the rows, [(name, value)], of the Task and Event loop scopes."""

    def __init__(self, describe_task=None, describe_loop=None, exception=None):
        self._describe_task = describe_task
        self._describe_loop = describe_loop
        self._exception = exception  # the exception an exception stop is about: an Exception scope shows it
        self._ids = itertools.count(1)
        self.frames = {}      # frameId -> frame
        self._loop_only = set()
        self.context = {}     # frameId -> (task, loop state) the frame belongs to
        self.containers = {}  # variablesReference -> ("locals", frame) | ("value", object) | ("pairs", [...])

    def add_frame(self, frame, task=None, state=None, loop_only=False):
        """A DAP frame id for frame; loop_only: its scopes are the Event loop's alone (the loop's
        own frame, shown between iterations)."""
        ident = next(self._ids)
        self.frames[ident] = frame
        self.context[ident] = (task, state)
        if loop_only:
            self._loop_only.add(ident)
        return ident

    def _reference(self, kind, value):
        ident = next(self._ids)
        self.containers[ident] = (kind, value)
        return ident

    def scopes(self, frame_id):
        frame = self.frames.get(frame_id)
        if frame is None:
            raise LookupError("frame %d is gone: the program resumed since it was listed" % frame_id)
        task, state = self.context.get(frame_id, (None, None))
        if frame_id in self._loop_only and state is not None and self._describe_loop is not None:
            return [{"name": "Event loop", "variablesReference": self._reference("pairs", self._describe_loop(state))}]
        scopes = []
        if self._exception is not None:
            error = self._exception
            scopes.append({"name": "Exception", "variablesReference": self._reference("pairs", [
                ("exception", error), ("type", type_name(error)), ("message", safe_repr(str(error)))])})
        scopes.append({"name": "Locals", "variablesReference": self._reference("locals", frame), "presentationHint": "locals"})
        if task is not None and self._describe_task is not None:
            scopes.append({"name": "Task", "variablesReference": self._reference("pairs", self._describe_task(task))})
        if state is not None and self._describe_loop is not None:
            scopes.append({"name": "Event loop", "variablesReference": self._reference("pairs", self._describe_loop(state))})
        if frame.f_code.co_flags & _CO_OPTIMIZED:  # not frame.f_locals: see _CO_OPTIMIZED
            scopes.append({"name": "Globals", "variablesReference": self._reference("globals", frame), "expensive": True})
        return scopes

    def variables(self, reference, start=0, count=0, only=None):
        """A page of a scope's or value's children; only='named' or 'indexed' as DAP's filter."""
        entry = self.containers.get(reference)
        if entry is None:
            raise LookupError("variables %d are gone: the program resumed since they were listed" % reference)
        kind, value = entry
        if only is not None and (only == "indexed") != (kind == "value" and isinstance(value, _INDEXED)):
            return []  # collections have only indexed children; scopes and objects only named ones
        if kind == "locals":
            children = frame_locals(value)
        elif kind == "pairs":
            return [self._pair(name, item) for name, item in value[start:start + (count or MAX_CHILDREN_PAGE)]]
        elif kind == "globals":
            children = [(k, v) for k, v in value.f_globals.items() if not (k.startswith("__") and k.endswith("__"))]
        else:
            return [self.variable(name, child) for name, child in self._children(value, start, count or MAX_CHILDREN_PAGE)]
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
            if isinstance(value, _INDEXED):
                result["indexedVariables"] = len(value)  # VS Code pages them in ranges
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
    def _children(value, start, count):
        """One page of a value's children: only that page's items are read (a 100,000-item dict
        costs what its first 100 do)."""
        end = start + count
        if isinstance(value, dict):
            return [(safe_repr(k, 100), v) for k, v in itertools.islice(value.items(), start, end)]
        if isinstance(value, (list, tuple)):
            return [("[%d]" % i, value[i]) for i in range(start, min(end, len(value)))]
        if isinstance(value, (set, frozenset)):
            return [("<%d>" % i, v) for i, v in enumerate(itertools.islice(value, start, end), start)]
        try:
            attributes = vars(value)
        except BaseException:
            return []
        return sorted(attributes.items(), key=lambda item: str(item[0]))[start:end]

    def evaluate(self, expression, frame_id=None, context=None):
        """Run what the user typed in the debugger, in the chosen frame. The only code we run on
        request. It gives up after a time limit (longer in the Debug Console than for hovers and
        watches, which VS Code sends unasked) so that the session never hangs on an expression."""
        frame = self.frames.get(frame_id) if frame_id is not None else None
        if frame_id is not None and frame is None:
            raise LookupError("frame %d is gone: the program resumed since it was listed" % frame_id)
        global_names = frame.f_globals if frame is not None else sys.modules["__main__"].__dict__
        local_names = frame.f_locals if frame is not None else global_names
        try:
            code = compile(expression, "<debug console>", "eval")
            mode = eval
        except SyntaxError:
            code = compile(expression, "<debug console>", "exec")
            mode = exec
        limit = CONSOLE_TIME_LIMIT if context in (None, "repl") else REPR_TIME_LIMIT
        try:
            value = run_limited(limit, mode, code, global_names, local_names)
        except TimeLimitExceeded:
            raise LookupError("the expression ran longer than %g s and was stopped" % limit)
        if mode is exec:
            return {"result": "", "variablesReference": 0}
        described = self.variable("result", value)
        return {"result": described["value"], "type": described["type"],
                "variablesReference": described["variablesReference"]}

