"""The Task Switches history: recent task steps with where each resumed and suspended.

Recorded by the per-handle hooks, so it costs nothing while the program runs freely with no
task breakpoints; it fills while the user steps (and always with taskSwitchHistory "always").
Only weak references to tasks are kept: recording must not keep a finished task alive, or
asyncio's "Task exception was never retrieved" would come late, or never.
"""

import collections
import time
import weakref

from . import frames as frame_tools
from . import instrument

KEPT = 4096
_perf_counter = time.perf_counter


class SwitchRecorder:
    def __init__(self):
        self._entries = collections.deque(maxlen=KEPT)
        self._open = {}   # loop id -> (entry, started) of the handle running now

    def before(self, state, handle, detailed=True):
        """Record a handle about to run; detailed adds where its task resumes and suspends, which
        costs a few microseconds a step (skipped while stepping a whole iteration of many tasks)."""
        callback = handle._callback
        owner = getattr(callback, "__self__", None)
        entry = {"iteration": state.iteration, "time": _loop_time(state), "loopId": state.id,
                 "callback": instrument.callback_name(callback)}
        if owner is not None and instrument.is_task(owner):
            entry["taskId"] = instrument.task_id(owner)
            entry["taskName"] = owner.get_name()
            entry["coroutine"] = frame_tools.coroutine_name(frame_tools.task_coroutine(owner))
            if detailed:
                where = frame_tools.resume_location(owner)
                if where is not None:
                    entry["resumedAt"] = where
            entry["_task"] = weakref.ref(owner)
        self._entries.append(entry)
        self._open[state.id] = (entry, _perf_counter())

    def after(self, state):
        opened = self._open.pop(state.id, None)
        if opened is None:
            return
        entry, started = opened
        entry["durationMs"] = (_perf_counter() - started) * 1000.0
        task = entry.get("_task")
        task = task() if task is not None and "resumedAt" in entry else None
        if task is not None and not task.done():
            where = frame_tools.resume_location(task)
            if where is not None:
                entry["suspendedAt"] = where

    def last(self, loop_id):
        """HandleInfo (protocol.json) of the handle that ran last on a loop, with where its task
        suspended, or None. Built from the record: the handle itself is not kept."""
        for entry in reversed(self._entries):
            if entry["loopId"] != loop_id:
                continue
            info = {k: entry[k] for k in ("callback", "taskId", "taskName", "coroutine", "suspendedAt") if k in entry}
            task = entry.get("_task")
            task = task() if task is not None else None
            if task is not None:
                if not task.done():
                    info["taskState"] = "pending"
                elif task.cancelled():
                    info["taskState"] = "cancelled"
                else:
                    info["taskState"] = "failed" if instrument.task_exception(task) is not None else "done"
            return info
        return None

    def recent(self, loop_ids=None, limit=200):
        """(entries newest first, how many are kept) as protocol.json's TaskSwitch."""
        chosen = [e for e in self._entries if loop_ids is None or e["loopId"] in loop_ids]
        recorded = len(chosen)
        result = []
        for entry in reversed(chosen[-limit:] if limit else chosen):
            result.append({k: v for k, v in entry.items() if not k.startswith("_")})
        return result, recorded

    def steps(self):
        """Steps per task id in the window, and the tasks seen there that have finished since."""
        counts = collections.Counter()
        finished = []
        for entry in self._entries:
            ident = entry.get("taskId")
            if ident is None:
                continue
            if ident not in counts:
                task = entry["_task"]()
                if task is not None and task.done():
                    finished.append(task)
            counts[ident] += 1
        return counts, finished


def _loop_time(state):
    loop = state.loop
    try:
        return float(loop.time()) if loop is not None else 0.0
    except Exception:
        return 0.0
