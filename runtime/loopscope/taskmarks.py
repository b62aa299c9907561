"""Which tasks may match a function breakpoint, learnt from sys.monitoring (3.12+).

A function breakpoint stops before a task step when the task's name, or the name of a coroutine in
its await chain, is the breakpoint's name. Walking each task's await chain before each of its
steps costs about half a microsecond, a third of a plain step. From 3.12 only marked tasks get that
walk (instrument._handle_run_task_steps); task names are compared at every step, which is cheap.
A task is marked:
- when it is created, if its own coroutine matches (instrument._create_task; a Task made
  directly, not through loop.create_task, is then checked from its second step on);
- when a coroutine with a matching name starts or resumes in one of its steps: PY_START and
  PY_RESUME events, switched off (DISABLE) at every code location whose name does not match, so
  that only matching coroutines cost anything; the task's next step is then checked;
- by a scan of the live tasks whenever the names change (tasks suspended inside such a coroutine).
A walk that finds no match takes the mark away. Marks are ids, since a set lookup costs less than
a WeakSet's; a stale id (a task that died marked, its id reused, a mark for a name since removed)
costs one walk.
"""

import sys

from . import asyncio_internals as internals
from . import frames as frame_tools
from .linetrace import claim_monitoring_tool


class TaskMarks:
    def __init__(self):
        self.ids = set()
        self.names = frozenset()
        self._tool = None

    @property
    def active(self):
        return self._tool is not None

    def follow(self, names, live_tasks):
        """Watch for these names (none: stop watching). live_tasks() lists the tasks to scan when
        the names change. Returns the set of marked ids, or None when every step must be walked
        (before 3.12, or all monitoring tool ids taken)."""
        names = frozenset(names)
        if names == self.names:
            return self.ids if self.active else None
        self.names = names
        if not internals.HAS_MONITORING:
            return None
        monitoring = sys.monitoring
        if not names:
            self._release()
            return None
        if self._tool is None:
            # Not the debugger's id (line breakpoints take it) nor coverage's or a profiler's.
            self._tool = claim_monitoring_tool("loopscope tasks", 3)
            if self._tool is None:
                return None
            for event in (monitoring.events.PY_START, monitoring.events.PY_RESUME):
                monitoring.register_callback(self._tool, event, self._entered)
            monitoring.set_events(self._tool, monitoring.events.PY_START | monitoring.events.PY_RESUME)
        # Code switched off under the old names may match the new ones: on again before the scan,
        # so that a matching coroutine that starts meanwhile marks its task. Marks for the old
        # names stay: each costs one walk, which takes it away.
        monitoring.restart_events()
        self.ids.update([id(task) for task in live_tasks() if frame_tools.task_matches(task, names)])
        return self.ids

    def _release(self):
        if self._tool is None:
            return
        monitoring = sys.monitoring
        monitoring.set_events(self._tool, 0)
        for event in (monitoring.events.PY_START, monitoring.events.PY_RESUME):
            monitoring.register_callback(self._tool, event, None)
        monitoring.free_tool_id(self._tool)
        self._tool = None
        self.ids.clear()

    def _entered(self, code, _offset):
        """PY_START or PY_RESUME: a matching coroutine marks the task running it; any other code
        location is switched off until the names change. Never raises into the program."""
        names = self.names
        if code.co_name not in names and code.co_qualname not in names:
            return sys.monitoring.DISABLE
        loop = internals.get_running_loop()
        if loop is not None:
            try:
                task = internals.current_task(loop)
            except Exception:
                return None
            if task is not None:
                self.ids.add(id(task))
        return None
