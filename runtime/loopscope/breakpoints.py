"""Function breakpoints and task filters, plus the hit-count conditions that line breakpoints share
(linetrace.py keeps the line breakpoints themselves; exceptionrules.py the exception filters).

A function breakpoint's name stops the program two ways: at the first line of every function or
coroutine it names, each time one starts (FunctionNames says which code objects; the tracer watches
them); and before a task resumes whose name it is, or whose await chain holds a coroutine of that
name that has started (a coroutine that has not started stops at its first line instead).
"""

import gc
import os
import re

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .vocabulary import TaskFilter

_HIT_CONDITION = re.compile(r"^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$")
# The filters that need every handle to pass through the debugger.
HANDLE_FILTERS = frozenset((TaskFilter.TASK_SWITCH, TaskFilter.TASK_DONE, TaskFilter.TASK_EXCEPTION))


def hit_test(text):
    """(operator, count) for a DAP hitCondition, or raise ValueError with a readable message."""
    match = _HIT_CONDITION.match(text)
    if match is None:
        raise ValueError("hit count must be a number, optionally after ==, >, >=, <, <= or %% (got %r)" % text)
    return match.group(1) or "==", int(match.group(2))


def passes(test, hits):
    if test is None:
        return True
    op, n = test
    return {"==": hits == n, ">=": hits >= n, "<=": hits <= n, ">": hits > n, "<": hits < n,
            "%": n > 0 and hits % n == 0}[op]


_IDENTIFIER = re.compile(r"^[^\W\d]\w*$")


class FunctionBreakpoint:
    """A name that stops the program where a function of that name starts, and before a task of
    that name (or running a coroutine of that name) resumes."""

    def __init__(self, ident, name, condition=None, hit_condition=None):
        self.id = ident
        self.name = name.strip()
        # A dotted Python name can name a function: its parts, which end a function's module.qualname.
        parts = self.name.split(".")
        self.parts = tuple(parts) if all(_IDENTIFIER.match(part) for part in parts) else None
        self.condition = condition.strip() if condition and condition.strip() else None
        self.hits = 0
        self.hit_test = None
        self.message = None
        if self.condition:
            try:
                compile(self.condition, "<condition>", "eval")
            except SyntaxError as error:
                self.message = "condition is not a Python expression: %s" % error.msg
        if hit_condition and hit_condition.strip():
            try:
                self.hit_test = hit_test(hit_condition)
            except ValueError as error:
                self.message = str(error)
        if not self.name and self.message is None:
            self.message = "a function breakpoint needs a task or coroutine name"

    @property
    def verified(self):
        return self.message is None

    def matches(self, task, names):
        return self.name in names or registry.task_name(task) == self.name

    def names_function(self, dotted_name):
        """Is this the end of a function's dotted name (module, classes, function)?"""
        parts = self.parts
        return parts is not None and tuple(dotted_name[-len(parts):]) == parts

    def hit(self):
        """Count a match; True if the hit count says to stop."""
        self.hits += 1
        return passes(self.hit_test, self.hits)

    def result(self):
        """BreakpointResult (protocol.json)."""
        result = {"id": self.id, "verified": self.verified}
        if self.message:
            result["message"] = self.message
        return result


class TaskBreakpoints:
    """The function breakpoints and task filters the adapter last set."""

    def __init__(self):
        self.function_breakpoints = []
        self.names = frozenset()   # of the function breakpoints: what the hooks match tasks against
        self.filters = frozenset()
        self._next_id = 1

    def set_function_breakpoints(self, specs):
        """Replace them all; returns a BreakpointResult per spec, in order."""
        made = []
        for spec in specs:
            made.append(FunctionBreakpoint(self._next_id, spec["name"], spec.get("condition"), spec.get("hitCondition")))
            self._next_id += 1
        self.function_breakpoints = [bp for bp in made if bp.verified]
        self.names = frozenset(bp.name for bp in self.function_breakpoints)
        return [bp.result() for bp in made]

    def set_filters(self, filters):
        self.filters = frozenset(filters)

    def stops_on(self, task_filter):
        return task_filter in self.filters

    def needs_every_handle(self):
        return bool(self.filters & HANDLE_FILTERS)

    def may_match(self, task):
        """Cheap: could a function breakpoint match this task about to step?"""
        return bool(self.names) and frame_tools.task_matches(task, self.names)

    def hits(self, task, condition_holds):
        """The ids of the function breakpoints that stop this task now, counting their hits.
        condition_holds(breakpoint, task) evaluates a breakpoint's condition. Before its first step
        only the task's name counts: its coroutine stops at its first line when it starts."""
        names = frame_tools.chain_names(task) if frame_tools.has_started(task) else ()
        return self._count([bp for bp in self.function_breakpoints if bp.matches(task, names)],
                           lambda bp: condition_holds(bp, task))

    def entry_hits(self, frame, condition_holds):
        """The ids of the function breakpoints that stop a function starting in frame, at its first
        line, counting their hits. condition_holds(breakpoint) evaluates a breakpoint's condition."""
        dotted = dotted_name(frame.f_code, frame.f_globals,
                             any(len(bp.parts or ()) > 1 for bp in self.function_breakpoints))
        return self._count([bp for bp in self.function_breakpoints if bp.names_function(dotted)], condition_holds)

    @staticmethod
    def _count(matching, condition_holds):
        hit = []
        for bp in matching:
            if bp.condition and not condition_holds(bp):
                continue
            if bp.hit():
                hit.append(bp.id)
        return hit

    def function_names(self):
        """FunctionNames for the tracer, or None when no breakpoint name can name a function."""
        named = [bp for bp in self.function_breakpoints if bp.parts is not None]
        return FunctionNames(named) if named else None

    def names_of(self, ids):
        return [bp.name for bp in self.function_breakpoints if bp.id in ids]


class FunctionNames:
    """Which code objects a function breakpoint names, for the tracer: last_names is a cheap first
    test (a code object's co_name), matches() the whole one."""

    def __init__(self, breakpoints):
        self._breakpoints = tuple(breakpoints)
        self.last_names = frozenset(bp.parts[-1] for bp in breakpoints)
        self._qualified = any(len(bp.parts) > 1 for bp in breakpoints)

    def matches(self, code, module_globals):
        if code.co_name not in self.last_names:
            return False
        if not self._qualified:
            return True
        dotted = dotted_name(code, module_globals)
        return any(bp.names_function(dotted) for bp in self._breakpoints)


def dotted_name(code, module_globals, qualified=True):
    """A function's dotted name, as a list: its module (__main__ is named by what was run), then its
    qualified name without '<locals>'. Not qualified: the function's name alone."""
    if not qualified:
        return [code.co_name]
    module = module_globals.get("__name__") if isinstance(module_globals, dict) else None
    if not isinstance(module, str):
        module = ""
    if module == "__main__":  # python -m pkg.app: its spec's name; a script: its file's
        spec_name = getattr(module_globals.get("__spec__"), "name", None)
        module = spec_name if isinstance(spec_name, str) else os.path.splitext(os.path.basename(code.co_filename))[0]
    parts = module.split(".") if module else []
    parts.extend(part for part in qualified_name(code).split(".") if part != "<locals>")
    return parts


_qualnames = {}  # id(code) -> (code, qualified name), before 3.11


def qualified_name(code):
    """code.co_qualname; before 3.11, the __qualname__ of a function that runs this code (found
    once per code object, through the garbage collector), else its co_name."""
    if internals.HAS_QUALNAME:
        return code.co_qualname
    known = _qualnames.get(id(code))
    if known is not None and known[0] is code:
        return known[1]
    name = code.co_name
    for referrer in gc.get_referrers(code):
        if getattr(referrer, "__code__", None) is code and isinstance(getattr(referrer, "__qualname__", None), str):
            name = referrer.__qualname__
            break
    _qualnames[id(code)] = (code, name)
    return name
