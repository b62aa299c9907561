"""Step statistics per task and per kind of callback (stepStatistics "tasks"), and the recent steps
with who woke whom, for the timeline. measured_run takes asyncio's place as the innermost
Handle._run (instrument's HookPlan.measure), under whichever per-handle hook runs, so holds before
a handle are never timed. About 3 µs per handle: off by default (see docs/benchmarks.md).

Who woke whom: handles are appended to the right of the loop's ready deque, so those a handle
scheduled are the deque's growth while it ran; they are tagged, and run in the next iteration.
"""

import collections
import os
import time
import weakref

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .instrument import callback_name, task_callback_label
from .loopstats import BUCKETS, bucket
from .vocabulary import DURATION_BUCKET_BOUNDS

_original_handle_run = internals.ORIGINALS["handle_run"]
_states = registry.states
_perf_counter = time.perf_counter
_TASK_TYPES = internals.TASK_TYPES
_TIMER_HANDLE = internals.TimerHandle
_weakref = weakref.ref

STEPS_KEPT = 4096
# Steps at least this long record where their task suspended (a walk of its await chain: it would
# cost more than a short step itself).
LOCATION_FROM = 0.0005
ENDED_KEPT = 256         # statistics of ended tasks kept for the views and the timeline
CALLBACK_KINDS_KEPT = 500
SWEEP_EVERY = 4096       # new task records between sweeps for tasks destroyed while pending
# A task whose steps are mostly scheduled by itself (asyncio.sleep(0)) is busy polling.
SELF_WAKES_LINTED_FROM = 100

STEP, WAKEUP, CALLBACK = "step", "wakeup", "callback"
_B0, _B1, _B2 = DURATION_BUCKET_BOUNDS[:3]
_KINDS = {}  # type of the C Task's step or wakeup wrapper -> STEP or WAKEUP


class StepRecord:
    """The statistics of one task, or of the plain callbacks of one function, in constant memory."""

    __slots__ = ("id", "name", "coroutine", "loop_id", "created_at", "task_ref", "steps", "total", "longest",
                 "longest_at", "delay_total", "delay_longest", "self_wakes", "durations", "delays", "location",
                 "linted")

    def __init__(self, ident, name, loop_id):
        self.id = ident
        self.name = name
        self.coroutine = None
        self.loop_id = loop_id
        self.created_at = None     # Location
        self.task_ref = None       # weak reference to the task (None for callbacks)
        self.steps = 0
        self.total = 0.0
        self.longest = 0.0
        self.longest_at = None     # Location where the task suspended after its longest step
        self.delay_total = 0.0
        self.delay_longest = 0.0
        self.self_wakes = 0
        self.durations = [0] * BUCKETS
        self.delays = [0] * BUCKETS
        self.location = None       # a callback's function
        self.linted = False

    def snapshot(self):
        """StepStats (protocol.json)."""
        stats = {"steps": self.steps, "totalMs": self.total * 1000.0, "longestMs": self.longest * 1000.0,
                 "delayTotalMs": self.delay_total * 1000.0, "delayLongestMs": self.delay_longest * 1000.0,
                 "selfWakes": self.self_wakes, "durations": list(self.durations), "delays": list(self.delays)}
        if self.longest_at is not None:
            stats["longestAt"] = self.longest_at
        return stats


class LoopSteps:
    """One loop's bookkeeping for who woke whom: the tags of the handles that run in this iteration
    and of those scheduled for the next one."""

    __slots__ = ("iteration", "this_tags", "next_tags", "offset", "ready")

    def __init__(self, loop):
        self.iteration = -1
        self.this_tags = {}
        self.next_tags = {}
        self.offset = 0.0   # perf_counter() - loop.time(): a timer's due time on our clock
        self.ready = internals.ready_queue(loop)

    def rotate(self, iteration, loop):
        self.iteration = iteration
        self.this_tags, self.next_tags = self.next_tags, {}
        try:
            self.offset = _perf_counter() - loop.time()
        except Exception:
            self.offset = 0.0


class StepBook:
    """Every record, the recent steps, and what measured_run reports."""

    def __init__(self):
        self.live = {}                                   # id(task) -> StepRecord
        self.ended = collections.OrderedDict()           # task id -> StepRecord of an ended task
        self.callbacks = {}                              # callback name -> StepRecord
        self.recent = collections.deque(maxlen=STEPS_KEPT)
        self.on_self_wakes = None                        # (record, task) for a busy-polling task
        self._made = 0
        self._callback_ids = 0

    def task_record(self, task, state):
        old = self.live.get(id(task))
        if old is not None:  # the id of a task that is gone, reused
            self._end(id(task), old)
        record = StepRecord(registry.task_id(task), registry.task_name(task), state.id)
        record.coroutine = frame_tools.coroutine_name(internals.task_coroutine(task))
        created = registry.created_at(task)
        if created is not None:
            record.created_at = {"path": frame_tools.absolute(created[0]), "line": created[1]}
        record.task_ref = _weakref(task)
        self.live[id(task)] = record
        self._made += 1
        if self._made % SWEEP_EVERY == 0:
            self._sweep()
        return record

    def callback_record(self, callback, state):
        name = getattr(callback, "__qualname__", None)
        if not isinstance(name, str):
            name = callback_name(callback)
        record = self.callbacks.get(name)
        if record is None:
            if len(self.callbacks) >= CALLBACK_KINDS_KEPT:
                name = "(other callbacks)"
                record = self.callbacks.get(name)
            if record is None:
                self._callback_ids += 1
                record = self.callbacks[name] = StepRecord(-self._callback_ids, name, state.id)
                code = getattr(getattr(callback, "__func__", callback), "__code__", None)
                if code is not None:
                    record.location = {"path": frame_tools.absolute(code.co_filename), "line": code.co_firstlineno}
        return record

    def task_done(self, task):
        record = self.live.get(id(task))
        if record is not None and record.task_ref() is task:
            self._end(id(task), record)

    def _end(self, key, record):
        del self.live[key]
        self.ended[record.id] = record
        while len(self.ended) > ENDED_KEPT:
            self.ended.popitem(last=False)

    def _sweep(self):
        for key, record in list(self.live.items()):
            if record.task_ref() is None:
                self._end(key, record)

    def task_record_of(self, task):
        """The record of a task, live or ended, or None: by identity, without a scan."""
        record = self.live.get(id(task))
        if record is not None and record.task_ref() is task:
            return record
        return self.ended.get(registry.task_id(task))

    def of_task(self, task_id):
        """The record of a task by its id, live or ended, or None."""
        record = self.ended.get(task_id)
        if record is not None:
            return record
        for record in list(self.live.values()):
            if record.id == task_id:
                return record
        return None

    def records_by_id(self):
        """Every record still known, by id (for the timeline's subjects)."""
        found = {r.id: r for r in list(self.callbacks.values())}
        found.update((r.id, r) for r in list(self.ended.values()))
        found.update((r.id, r) for r in list(self.live.values()))
        return found


book = StepBook()
_live = book.live
_recent_append = book.recent.append


def measured_run(self, run=_original_handle_run):
    """Runs a handle with run (asyncio's Handle._run, or the program's wrapper of it) and counts it
    to its task or callback."""
    state = _states.get(id(self._loop))
    loop = state.loop_ref() if state is not None else None
    if loop is None:
        run(self)
        self = None  # as instrument's hooks do: a traceback must not keep the handle alive
        return
    stats = state.stats
    steps = stats.steps
    if steps is None:
        steps = stats.steps = LoopSteps(loop)
    iteration = state.iteration
    if steps.iteration != iteration:
        steps.rotate(iteration, loop)
    loop = None
    callback = self._callback
    task = getattr(callback, "__self__", None)
    if isinstance(task, _TASK_TYPES):
        record = _live.get(id(task))
        if record is None or record.task_ref() is not task:
            record = book.task_record(task, state)
        kind = _KINDS.get(type(callback)) or _kind_of(callback)
    else:
        task = None
        record = book.callback_record(callback, state)
        kind = CALLBACK
    callback = None
    tag = steps.this_tags.pop(id(self), None)
    timer = type(self) is _TIMER_HANDLE
    ready = steps.ready
    before = len(ready)
    held = stats.held_seconds
    started = _perf_counter()
    run(self)
    ended = _perf_counter()
    duration = ended - started - (stats.held_seconds - held)  # a stop inside the handle is not its time
    if tag is not None:
        waker, woken_at, held_then = tag
    else:
        waker = None
        woken_at = (self._when + steps.offset) if timer else (stats.handles_started or started)
        held_then = stats.held_seconds if timer else stats.held_at_iteration
    delay = started - woken_at - (held - held_then)
    if delay < 0.0:
        delay = 0.0
    after = len(ready)
    if after > before:
        # What this handle scheduled becomes ready as it ends; a timer's plain callback (the one
        # behind asyncio.sleep) passes its due time on, so the woken task counts from the timer.
        stamp = (record.id, woken_at if timer and task is None else ended, stats.held_seconds)
        tags = steps.next_tags
        if after - before == 1:
            tags[id(ready[-1])] = stamp
        else:
            for index in range(before - after, 0):
                tags[id(ready[index])] = stamp
    if kind is STEP and record.steps:
        record.self_wakes += 1
    record.steps += 1
    record.total += duration
    record.delay_total += delay
    # The histogram buckets inline (loopstats.bucket): a call costs more than the comparisons.
    if duration < _B2:
        record.durations[0 if duration < _B0 else (1 if duration < _B1 else 2)] += 1
    else:
        record.durations[bucket(duration)] += 1
    if delay < _B2:
        record.delays[0 if delay < _B0 else (1 if delay < _B1 else 2)] += 1
    else:
        record.delays[bucket(delay)] += 1
    if delay > record.delay_longest:
        record.delay_longest = delay
    location = None
    done = task is not None and task.done()
    if duration >= LOCATION_FROM:
        location = record.location if task is None else (None if done else frame_tools.resume_location(task))
    if duration > record.longest:
        record.longest = duration
        record.longest_at = location
    # Plain values only: a ring of tuples the garbage collector can leave alone (untracked).
    _recent_append((record.id, state.id, iteration, started, duration, kind, waker, woken_at if waker else None,
                    location))
    if task is not None:
        if done:
            book.task_done(task)
        elif kind is STEP and record.self_wakes >= SELF_WAKES_LINTED_FROM and not record.linted \
                and record.self_wakes * 2 > record.steps and book.on_self_wakes is not None:
            record.linted = True
            book.on_self_wakes(record, task)
    self = task = tag = None  # as instrument's hooks do


def _kind_of(callback):
    kind = WAKEUP if task_callback_label(callback) == "Task wakeup" else STEP
    if getattr(callback, "__name__", None) is None:  # the C Task's wrappers: known by type from now on
        _KINDS[type(callback)] = kind
    return kind


def where(location):
    """'app.py:12' for a Location, or ''."""
    return "%s:%d" % (os.path.basename(location["path"]), location["line"]) if location else ""
