"""The Task Switches history: recent task steps with where each resumed and suspended.

Recorded by the per-handle hooks, so it costs nothing while the program runs freely with no
task breakpoints; it fills while the user steps (and always with taskSwitchHistory "always").
While the user steps whole iterations, the hooks only append raw tuples to `log`; they become
entries here when the history is read.
Only weak references to tasks are kept: recording must not keep a finished task alive, or
asyncio's "Task exception was never retrieved" would come late, or never.
"""

import collections
import time
import weakref

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames as frame_tools
from . import registry
from .instrument import callback_name

KEPT = 4096
_perf_counter = time.perf_counter


def _dead():
    """Stands in for the weak reference of a task described after it finished."""
    return None


class SwitchRecorder:
    def __init__(self):
        self._entries = collections.deque(maxlen=KEPT)
        self._open = {}   # loop id -> (entry, started) of the handle running now
        # instrument._handle_run_logged appends (loop id, iteration, loop time, subject, callback
        # name, started, ended, place) for each handle it runs. subject: a weak reference to the
        # task; (id, name, coroutine, how it ended) for a task that finished in that step; None
        # for a plain callback. place: (filename, line) where a pending task suspended.
        self.log = collections.deque(maxlen=KEPT)
        self._recording = "none"  # what the hooks record now: 'all', 'matching' or 'none'

    def recording(self, mode, states):
        """The hooks now record every handle ('all'), only the task steps that may match a
        function breakpoint ('matching'), or nothing ('none'): a mark in the history, so that
        what was not recorded shows as a gap, not as nothing having run."""
        if mode == self._recording:
            return
        self._read_log()  # what was logged before the change stays before the mark
        self._recording = mode
        for state in states:
            self._entries.append({"_mark": mode, "loopId": state.id, "iteration": state.iteration,
                                  "time": _loop_time(state)})

    def _read_log(self):
        """Turn the raw log into entries, oldest first (poplefts: the loop thread may append meanwhile)."""
        log, entries = self.log, self._entries
        while log:
            entries.append(_entry_of(log.popleft()))

    def before(self, state, handle, detailed=True):
        """Record a handle about to run; detailed adds where its task resumes and suspends, which
        costs a few microseconds a step."""
        if self.log:
            self._read_log()
        callback = internals.handle_callback(handle)
        owner = getattr(callback, "__self__", None)
        entry = {"iteration": state.iteration, "time": _loop_time(state), "loopId": state.id,
                 "callback": callback_name(callback)}
        if owner is not None and registry.is_task(owner):
            _describe_task(entry, owner)
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
        logged = self._last_logged(loop_id)  # newer than every entry: before() reads the log first
        for entry in [_entry_of(logged)] if logged is not None else reversed(self._entries):
            if entry["loopId"] != loop_id or "_mark" in entry:
                continue
            info = {k: entry[k] for k in ("callback", "taskId", "taskName", "coroutine", "suspendedAt") if k in entry}
            task = entry.get("_task")
            task = task() if task is not None else None
            if task is None:
                if "_ended" in entry:
                    info["taskState"] = entry["_ended"]
            else:
                info["taskState"] = registry.how_task_ended(task) if task.done() else "pending"
            return info
        return None

    def _last_logged(self, loop_id):
        """The newest raw record of a loop, read from the end without draining the log (a stop
        reports the last handle before anyone asks for the whole history)."""
        log = self.log
        for index in range(len(log) - 1, -1, -1):
            try:
                record = log[index]
            except IndexError:  # another loop's thread appended meanwhile, and the deque is full
                return None
            if record[0] == loop_id:
                return record
        return None

    def recent(self, loop_ids=None, limit=200, states=()):
        """(entries newest first, how many steps are kept) as protocol.json's TaskSwitch; states
        are the loops' now, for a gap that lasts until now. A stretch of iterations that was not
        recorded, or recorded only for some tasks, is one gap entry where it happened."""
        self._read_log()
        chosen = [e for e in self._entries if loop_ids is None or e["loopId"] in loop_ids]
        rows, gaps, suspended = [], {}, {}  # gaps: loop id -> (mode, iteration, time) since the mark
        for entry in chosen:
            loop_id = entry["loopId"]
            mode = entry.get("_mark")
            if mode is None:
                rows.append(_with_resume(entry, suspended))
                continue
            opened = gaps.pop(loop_id, None)
            if opened is not None:
                rows.append(_gap(loop_id, opened, entry["iteration"], entry["time"]))
            if mode != "all":
                gaps[loop_id] = (mode, entry["iteration"], entry["time"])
        for state in states:
            opened = gaps.pop(state.id, None)
            if opened is not None and (loop_ids is None or state.id in loop_ids):
                rows.append(_gap(state.id, opened, state.iteration, _loop_time(state)))
        recorded = sum(1 for row in rows if "gap" not in row)
        return list(reversed(rows[-limit:] if limit else rows)), recorded

    def steps(self):
        """Steps per task id in the window, and the tasks seen there that have finished since."""
        self._read_log()
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


def _with_resume(entry, suspended):
    """The entry as protocol.json says it, with resumedAt from where its task last suspended when
    the entry has none (logged steps note only where they suspend). suspended: task id -> place."""
    row = {k: v for k, v in entry.items() if not k.startswith("_")}
    ident = row.get("taskId")
    if ident is not None:
        if "resumedAt" not in row and ident in suspended:
            row["resumedAt"] = suspended[ident]
        if "suspendedAt" in row:
            suspended[ident] = row["suspendedAt"]
    return row


_GAP_WHY = {"none": "ranFreely", "matching": "onlyMatchingTasks"}


def _gap(loop_id, opened, until, loop_time):
    """A TaskSwitch standing for the iterations between a mark and the next one (or now)."""
    mode, since, _since_time = opened
    return {"iteration": until, "time": loop_time, "loopId": loop_id, "callback": "(not recorded)",
            "gap": {"fromIteration": since + 1, "toIteration": max(since + 1, until), "why": _GAP_WHY[mode]}}


def _entry_of(record):
    """An entry from one raw record of instrument._handle_run_logged (see SwitchRecorder.log)."""
    loop_id, iteration, loop_time, subject, kind, started, ended, place = record
    entry = {"iteration": iteration, "time": loop_time, "loopId": loop_id, "durationMs": (ended - started) * 1000.0}
    entry["callback"] = kind
    if place is not None:
        entry["suspendedAt"] = {"path": frame_tools.absolute(place[0]), "line": place[1]}
    if subject is None:  # a plain callback
        return entry
    if isinstance(subject, tuple):  # a task that finished in this step, described then
        entry["taskId"], entry["taskName"], entry["coroutine"], entry["_ended"] = subject
        entry["_task"] = _dead
        return entry
    task = subject()
    if task is not None:
        _describe_task(entry, task)
        entry["_task"] = subject
    return entry


def _describe_task(entry, task):
    entry["taskId"] = registry.task_id(task)
    entry["taskName"] = registry.task_name(task)
    entry["coroutine"] = frame_tools.coroutine_name(internals.task_coroutine(task))


def _loop_time(state):
    loop = state.loop
    try:
        return float(clock_tools.peek(loop)) if loop is not None else 0.0
    except Exception:
        return 0.0
