"""Breakpoints on tasks: function breakpoints (a task or coroutine name that stops the task before
it resumes) and the task filters (task switch, created, done, exception, raised), plus the hit-count
conditions that line breakpoints share (linetrace.py keeps the line breakpoints themselves).
"""

import re

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


class FunctionBreakpoint:
    """A task-switch breakpoint: stops when a task whose name or await chain matches resumes."""

    def __init__(self, ident, name, condition=None, hit_condition=None):
        self.id = ident
        self.name = name.strip()
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
        condition_holds(breakpoint, task) evaluates a breakpoint's condition."""
        names = frame_tools.chain_names(task)
        hit = []
        for bp in self.function_breakpoints:
            if not bp.matches(task, names):
                continue
            if bp.condition and not condition_holds(bp, task):
                continue
            if bp.hit():
                hit.append(bp.id)
        return hit

    def names_of(self, ids):
        return [bp.name for bp in self.function_breakpoints if bp.id in ids]
