"""Frames, scopes, variables, evaluate, setVariable, setExpression and completions for a held
loop, valid until the program resumes.

Runs on the held loop's own thread (reprs and evaluate run user code). Every repr is guarded:
an exception, an overlong run (timelimit.py) or an oversized result becomes a readable error
text, never a broken session. What the user types runs in the frame's names (frameedit.py), and
what it assigns sticks; an expression with await runs as a task on the held loop (the run_awaited
the debugger gives, consoleawait.py).
"""

import ast
import itertools
import sys
import types

from .completions import complete
from .frameedit import CannotChange, FrameNamespace, declared_global, frame_locals, is_function_frame, set_local
from .timelimit import TimeLimitExceeded, run_limited, run_repr

MAX_VALUE_LENGTH = 1000
MAX_CHILDREN_PAGE = 1000
REPR_TIME_LIMIT = 1.0
CONSOLE_TIME_LIMIT = 30.0  # an expression typed in the Debug Console
# Builtin reprs of scalars cannot run user code; containers can (their items' reprs), so they are timed.
_TRUSTED_REPRS = frozenset(t.__repr__ for t in (int, float, complex, bool, str, bytes, type(None)))


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
    and describe_loop(state) give the rows, [(name, value)], of the Task and Event loop scopes;
    run_awaited(coroutine, limit) runs a coroutine on the loop held on this thread to its result."""

    def __init__(self, describe_task=None, describe_loop=None, exception=None, run_awaited=None):
        self._describe_task = describe_task
        self._describe_loop = describe_loop
        self._exception = exception  # the exception an exception stop is about: an Exception scope shows it
        self._run_awaited = run_awaited
        self._ids = itertools.count(1)
        self.frames = {}      # frameId -> frame
        self._loop_only = set()
        self.context = {}     # frameId -> (task, loop state) the frame belongs to
        self.containers = {}  # variablesReference -> ("locals", frame) | ("value", object) | ("pairs", [...])
        self.origins = {}     # variablesReference -> the frameId it was reached from (setVariable evaluates there)
        self._keys = {}       # variablesReference of a dict -> {name shown: key}, for the pages listed

    def add_frame(self, frame, task=None, state=None, loop_only=False):
        """A DAP frame id for frame; loop_only: its scopes are the Event loop's alone (the loop's
        own frame, shown between iterations)."""
        ident = next(self._ids)
        self.frames[ident] = frame
        self.context[ident] = (task, state)
        if loop_only:
            self._loop_only.add(ident)
        return ident

    def loop_of(self, frame_id=None, reference=None):
        """The registry.LoopState a frame (or the frame a variable was reached from) belongs to, if known."""
        if reference is not None:
            frame_id = self.origins.get(reference)
        if frame_id is None:
            return None
        return self.context.get(frame_id, (None, None))[1]

    def _reference(self, kind, value, origin=None):
        ident = next(self._ids)
        self.containers[ident] = (kind, value)
        if origin is not None:
            self.origins[ident] = origin
        return ident

    def _frame(self, frame_id):
        frame = self.frames.get(frame_id) if frame_id is not None else None
        if frame_id is not None and frame_id not in self.frames:
            raise LookupError("frame %d is gone: the program resumed since it was listed" % frame_id)
        return frame

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
                ("exception", error), ("type", type_name(error)), ("message", safe_repr(str(error)))], frame_id)})
        scopes.append({"name": "Locals", "variablesReference": self._reference("locals", frame, frame_id),
                       "presentationHint": "locals"})
        if task is not None and self._describe_task is not None:
            scopes.append({"name": "Task", "variablesReference": self._reference(
                "pairs", self._describe_task(task), frame_id)})
        if state is not None and self._describe_loop is not None:
            scopes.append({"name": "Event loop", "variablesReference": self._reference(
                "pairs", self._describe_loop(state), frame_id)})
        if is_function_frame(frame):  # not frame.f_locals: see frameedit._CO_OPTIMIZED
            scopes.append({"name": "Globals", "variablesReference": self._reference("globals", frame, frame_id),
                           "expensive": True})
        return scopes

    def variables(self, reference, start=0, count=0, only=None):
        """A page of a scope's or value's children; only='named' or 'indexed' as DAP's filter."""
        entry = self.containers.get(reference)
        if entry is None:
            raise LookupError("variables %d are gone: the program resumed since they were listed" % reference)
        kind, value = entry
        origin = self.origins.get(reference)
        if only is not None and (only == "indexed") != (kind == "value" and isinstance(value, _INDEXED)):
            return []  # collections have only indexed children; scopes and objects only named ones
        count = count or MAX_CHILDREN_PAGE
        if kind == "locals":
            children = frame_locals(value)[start:start + count]
        elif kind == "pairs":
            return [self._pair(name, item, origin) for name, item in value[start:start + count]]
        elif kind == "globals":
            children = [(k, v) for k, v in value.f_globals.items() if not (k.startswith("__") and k.endswith("__"))]
            children = children[start:start + count]
        else:
            children = self._children(reference, value, start, count)
        return [self.variable(name, child, origin) for name, child in children]

    def _pair(self, name, item, origin=None):
        """A synthetic row: text shows as is; anything else is a real object to expand."""
        if isinstance(item, str):
            return {"name": name, "value": item, "variablesReference": 0}
        return self.variable(name, item, origin)

    def variable(self, name, value, origin=None):
        result = {"name": str(name), "value": safe_repr(value), "type": type_name(value), "variablesReference": 0}
        if self._expandable(value):
            result["variablesReference"] = self._reference("value", value, origin)
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

    def _children(self, reference, value, start, count):
        """One page of a value's children: only that page's items are read (a 100,000-item dict
        costs what its first 100 do). A dict's keys are kept by the names shown, for setVariable."""
        end = start + count
        if isinstance(value, dict):
            page = [(safe_repr(k, 100), k, v) for k, v in itertools.islice(value.items(), start, end)]
            keys = self._keys.setdefault(reference, {})
            for shown, key, _v in page:
                keys.setdefault(shown, key)
            return [(shown, v) for shown, _k, v in page]
        if isinstance(value, (list, tuple)):
            return [("[%d]" % i, value[i]) for i in range(start, min(end, len(value)))]
        if isinstance(value, (set, frozenset)):
            return [("<%d>" % i, v) for i, v in enumerate(itertools.islice(value, start, end), start)]
        try:
            attributes = vars(value)
        except BaseException:
            return []
        return sorted(attributes.items(), key=lambda item: str(item[0]))[start:end]

    # --- what the user types ------------------------------------------------------------------

    def evaluate(self, expression, frame_id=None, context=None):
        """Run what the user typed in the debugger, in the chosen frame. The only code we run on
        request (with setVariable and setExpression). It gives up after a time limit (longer in the
        Debug Console than for hovers and watches, which VS Code sends unasked) so that the session
        never hangs on an expression."""
        frame = self._frame(frame_id)
        limit = _limit(context)
        code, is_expression, globals_declared = _compile(expression)
        value = self._run(code, FrameNamespace(frame, globals_declared), limit)
        if not is_expression:
            return {"result": "", "variablesReference": 0}
        described = self.variable("result", value, frame_id)
        return {"result": described["value"], "type": described["type"],
                "variablesReference": described["variablesReference"]}

    def _run(self, code, namespace, limit):
        """Run compiled code in namespace, awaiting it on the held loop if it awaits; what it
        assigned is written back to the frame even when it fails half way (as in a REPL)."""
        problems = []
        try:
            try:
                value = run_limited(limit, namespace.run, code)
                if code.co_flags & _CO_COROUTINE:
                    if self._run_awaited is None:
                        value.close()
                        raise LookupError("await is not possible here: no event loop is held")
                    value = self._run_awaited(value, limit)
            except TimeLimitExceeded:
                raise LookupError("the expression ran longer than %g s and was stopped" % limit)
        finally:
            problems = namespace.write_back()
        if problems:
            raise LookupError("; ".join(problems))
        return value

    def set_variable(self, reference, name, value_text):
        """setVariable: name in the container reference stands for gets the value of value_text,
        evaluated in the frame the container was reached from."""
        entry = self.containers.get(reference)
        if entry is None:
            raise LookupError("variables %d are gone: the program resumed since they were listed" % reference)
        kind, container = entry
        origin = self.origins.get(reference)
        if kind == "pairs":
            raise LookupError("%s is one of Loopscope's facts about the task or loop, not a variable: it cannot be set"
                              % name)
        value = self._value_of(value_text, self.frames.get(origin) if origin is not None else None)
        if kind == "locals":
            if is_function_frame(container):
                set_local(container, name, value)
            else:
                container.f_locals[name] = value
        elif kind == "globals":
            container.f_globals[name] = value
        else:
            self._set_item(reference, container, name, value)
        return self._value_set(value, origin)

    def _set_item(self, reference, container, name, value):
        if isinstance(container, list):
            index = _index_in(name)
            if index is None:
                raise LookupError("%s is not an item of the list" % name)
            container[index] = value
        elif isinstance(container, dict):
            keys = self._keys.get(reference, {})
            if name not in keys:
                raise LookupError("no key shown as %s in this dict: list its items again" % name)
            container[keys[name]] = value
        elif isinstance(container, (tuple, frozenset, str, bytes)):
            raise LookupError("a %s cannot be changed: give the variable that holds it a new one instead"
                              % type(container).__name__)
        elif isinstance(container, set):
            raise LookupError("an item of a set has no place to assign to: use add() and discard() in the Debug Console")
        else:
            run_limited(CONSOLE_TIME_LIMIT, setattr, container, name, value)

    def set_expression(self, expression, value_text, frame_id=None):
        """setExpression: assign the value of value_text to what expression names, in the frame."""
        frame = self._frame(frame_id)
        try:
            target = ast.parse(expression.strip(), mode="eval").body
        except SyntaxError as error:
            raise LookupError("%s cannot be assigned to: %s" % (expression, error.msg))
        if not _assignable(target):
            raise LookupError("%s cannot be assigned to: give a variable, an attribute or an item" % expression)
        value = self._value_of(value_text, frame)
        assignment = ast.parse("%s = 0" % _VALUE_NAME, mode="exec")
        assignment.body[0].targets = [_as_target(target)]
        assignment.body[0].value = ast.Name(id=_VALUE_NAME, ctx=ast.Load())
        ast.fix_missing_locations(assignment)
        code = compile(assignment, "<debug console>", "exec")
        namespace = FrameNamespace(frame)
        namespace.globals[_VALUE_NAME] = value
        try:
            run_limited(CONSOLE_TIME_LIMIT, namespace.run, code)
        except TimeLimitExceeded:
            raise LookupError("the assignment ran longer than %g s and was stopped" % CONSOLE_TIME_LIMIT)
        finally:
            namespace.globals.pop(_VALUE_NAME, None)
            problems = namespace.write_back()
        if problems:
            raise LookupError("; ".join(problems))
        return self._value_set(value, frame_id)

    def _value_of(self, text, frame):
        """The value of an expression typed as a new value, in frame (await allowed)."""
        try:
            code = compile(text, "<debug console>", "eval", _AWAIT_FLAGS)
        except SyntaxError as error:
            raise LookupError("the new value must be an expression: %s" % error.msg)
        return self._run(code, FrameNamespace(frame), CONSOLE_TIME_LIMIT)

    def _value_set(self, value, origin):
        described = self.variable("", value, origin)
        described.pop("name")
        return described

    def completions(self, text, frame_id=None):
        """Completions for the end of text, from the frame's names; runs none of the program's code."""
        fragment, targets = complete(text, self._frame(frame_id))
        return {"targets": targets, "fragment": fragment}


_VALUE_NAME = "__loopscope_new_value__"
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE: the typed code awaits (compiled with top-level await allowed)
_AWAIT_FLAGS = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)


def _limit(context):
    return CONSOLE_TIME_LIMIT if context in (None, "repl") else REPR_TIME_LIMIT


def _compile(expression):
    """(code, is an expression, names declared global) of what the user typed: an expression if it
    is one, else statements; await is allowed at the top level."""
    try:
        return compile(expression, "<debug console>", "eval", _AWAIT_FLAGS), True, ()
    except SyntaxError:
        pass
    code = compile(expression, "<debug console>", "exec", _AWAIT_FLAGS)
    declared = declared_global(ast.parse(expression, mode="exec")) if "global" in expression else ()
    return code, False, declared


def _index_in(name):
    text = name.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return int(text)
    except ValueError:
        return None


def _assignable(node):
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_assignable(element) or (isinstance(element, ast.Starred) and _assignable(element.value))
                   for element in node.elts)
    return False


def _as_target(node):
    """The same expression, as the target of an assignment."""
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        node.ctx = ast.Store()
    elif isinstance(node, ast.Starred):
        node.ctx = ast.Store()
        _as_target(node.value)
    elif isinstance(node, (ast.Tuple, ast.List)):
        node.ctx = ast.Store()
        for element in node.elts:
            _as_target(element)
    return node
