"""Changing a frame's variables from the debugger, and the namespace an expression runs in.

What the user types runs in one dict holding the frame's globals and, over them, its locals
(comprehensions, lambdas and generator expressions see only globals: with one dict they see the
locals too). Afterwards what it assigned is written back: a variable of the frame into the frame
itself (through the PEP 667 write-through proxy from 3.13, with PyFrame_LocalsToFast before), a
name declared `global` into the module, and any other new name to the frame's own extra names,
as pdb does: later expressions in that frame see it, the program's code does not.
"""

import ast
import sys

from . import asyncio_internals as internals

_MISSING = object()
# A function's frame, whose locals are not its globals. Asking frame.f_locals to find out would, up to
# 3.12, copy every local into a dict kept on the frame until it returns: a stale strong reference
# to whatever the program later drops (its "Task exception was never retrieved" never comes).
_CO_OPTIMIZED = 0x1

try:
    import ctypes
    _locals_to_fast = ctypes.pythonapi.PyFrame_LocalsToFast
    _locals_to_fast.argtypes = (ctypes.py_object, ctypes.c_int)
    _locals_to_fast.restype = None
except (ImportError, AttributeError):  # no ctypes, or 3.13+ where the proxy writes through
    _locals_to_fast = None


class CannotChange(LookupError):
    """A change Python does not allow here; its text says why, for the user."""


def frame_locals(frame):
    """A frame's locals as [(name, value)], leaving nothing behind. Up to 3.12, frame.f_locals of a
    function's frame is a snapshot dict kept on the frame (the dict locals() returns) until the frame
    returns: it would keep each value alive after the program rebinds or deletes the variable. So
    its variables are taken out of it again, unless the program holds that dict itself (then it is
    the program's), or a trace function runs on this thread: after a trace call CPython writes the
    dict back into the frame's variables (PyFrame_LocalsToFast), and an emptied one would delete
    them. Extra names an expression gave the frame stay (they live nowhere else)."""
    snapshot = frame.f_locals
    items = list(snapshot.items())
    if _may_empty(frame, snapshot) and sys.getrefcount(snapshot) <= _SNAPSHOT_REFS:
        _take_variables_out(frame, snapshot)
    return items


def release_snapshot(frame):
    """After a change through the snapshot (up to 3.12): take the variables out of it again."""
    snapshot = frame.f_locals
    if _may_empty(frame, snapshot) and sys.getrefcount(snapshot) <= _SNAPSHOT_REFS:
        _take_variables_out(frame, snapshot)


# The references to an unshared snapshot where it is counted: the frame's, the local name, getrefcount's argument
_SNAPSHOT_REFS = 3


def _may_empty(frame, snapshot):
    return (internals.FRAME_LOCALS_IS_SNAPSHOT and frame.f_code.co_flags & _CO_OPTIMIZED and type(snapshot) is dict
            and sys.gettrace() is None)


def _take_variables_out(frame, snapshot):
    for name in variable_names(frame.f_code):
        snapshot.pop(name, None)


def variable_names(code):
    """The names a function's frame keeps as variables: arguments and locals, cells, free variables."""
    return set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars)


def is_function_frame(frame):
    return frame is not None and bool(frame.f_code.co_flags & _CO_OPTIMIZED)


def set_local(frame, name, value):
    """Bind name in frame: a variable of its code, or one of the frame's extra names."""
    if not internals.FRAME_LOCALS_IS_SNAPSHOT:
        frame.f_locals[name] = value  # PEP 667: writes through to the frame
        return
    snapshot = frame.f_locals  # refreshed from the frame's variables
    snapshot[name] = value
    if name in variable_names(frame.f_code):
        if _locals_to_fast is None:
            raise CannotChange("this Python has no ctypes, so Loopscope cannot change a local variable")
        _locals_to_fast(frame, 0)
    snapshot = None
    release_snapshot(frame)


def delete_local(frame, name):
    """Delete one of the frame's extra names. Its variables stay: CPython 3.11 and 3.12 turn a
    deletion through PyFrame_LocalsToFast into an assignment of None (with a RuntimeWarning in the
    program's stderr), and 3.13's proxy refuses it."""
    if name in variable_names(frame.f_code):
        raise CannotChange("the local variable %s of a running function cannot be deleted from the debugger; "
                           "give it another value instead" % name)
    if not internals.FRAME_LOCALS_IS_SNAPSHOT:
        try:
            del frame.f_locals[name]
        except Exception:  # 3.13.0's proxy refuses any deletion (TypeError); later ones only of variables
            raise CannotChange("Python %d.%d cannot delete %s from the frame; give it another value instead"
                               % (sys.version_info[0], sys.version_info[1], name))
        return
    frame.f_locals.pop(name, None)
    release_snapshot(frame)


def declared_global(tree):
    """Names a `global` statement at the top level of the typed code declares (not inside a def)."""
    names, todo = set(), list(getattr(tree, "body", ()))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return names


class FrameNamespace:
    """The names an expression typed in the debugger sees in a frame (None: the __main__ module),
    and write_back() to make what it assigned stick."""

    def __init__(self, frame, declared_globals=()):
        self.frame = frame
        self._globals_declared = set(declared_globals)
        if frame is None:
            main = sys.modules["__main__"].__dict__
            self.globals = self.locals = main
            self._initial = None
        elif not is_function_frame(frame):
            # A module's or class body's frame: its f_locals is the real namespace, assigned directly.
            self.globals, self.locals = frame.f_globals, frame.f_locals
            self._initial = None
        else:
            names = dict(frame.f_globals)
            names.update(frame_locals(frame))
            self.globals = self.locals = names
            self._initial = dict(names)

    def run(self, code):
        return eval(code, self.globals, self.locals)

    def write_back(self):
        """Put what the code assigned or deleted where it belongs. Returns the problems, as text."""
        initial, frame = self._initial, self.frame
        if initial is None:
            return []
        names = self.globals
        variables = variable_names(frame.f_code)
        problems = []
        for name, value in list(names.items()):
            if initial.get(name, _MISSING) is value:
                continue
            try:
                if name in self._globals_declared:
                    frame.f_globals[name] = value
                else:
                    set_local(frame, name, value)
            except Exception as error:
                problems.append("%s was not assigned: %s" % (name, error))
        removed = [name for name in initial if name not in names]
        own = {name for name, _value in frame_locals(frame)} if removed else ()
        for name in removed:
            try:
                if name in self._globals_declared:
                    frame.f_globals.pop(name, None)
                elif name in variables or name in own:
                    delete_local(frame, name)
                else:
                    problems.append("%s is a global of the module: say `global %s` first to delete it there"
                                    % (name, name))
            except Exception as error:
                problems.append("%s was not deleted: %s" % (name, error))
        self._initial = dict(names)
        return problems
