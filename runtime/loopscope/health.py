"""Loop health, the debugger's part for issue #17: what is measured (loopstats always; stepstats with
stepStatistics "tasks"), the blocked-loop watchdog (blockedloop.py) and its warnings, the lints, and
the timeline. The Debugger asks it which hooks to run and tells it of stops; the stop inside a
blocked step is the Debugger's own (it holds), brought about through stop_blocked(episode).
"""

import atexit
import time

from . import blockedloop
from . import registry
from . import stepstats
from . import timeline
from .asyncio_internals import task_coroutine
from .frames import coroutine_name
from .lints import Lints, WarningHook, source_line
from .vocabulary import ARGUMENT_DEFAULTS, StepStatistics

DEFAULT_THRESHOLD = ARGUMENT_DEFAULTS["setTaskFilters"]["loopBlockedMs"] / 1000.0
# The Debug Console gets at most WARNINGS_PER_WINDOW blocked-loop warnings per WARNING_WINDOW
# seconds, and one per line per window; the next one says how many were left out.
WARNINGS_PER_WINDOW = 5
WARNING_WINDOW = 10.0
CALLBACK_STATS_LISTED = 50
_monotonic = time.monotonic


class WarningRate:
    """Which blocked-loop warnings reach the Debug Console."""

    def __init__(self):
        self._window_start = -WARNING_WINDOW
        self._in_window = 0
        self._lines = {}        # location key -> when last told
        self.left_out = 0

    def allow(self, key, now=None):
        now = _monotonic() if now is None else now
        if now - self._window_start >= WARNING_WINDOW:
            self._window_start, self._in_window = now, 0
        last = self._lines.get(key)
        if self._in_window >= WARNINGS_PER_WINDOW or (last is not None and now - last < WARNING_WINDOW):
            self.left_out += 1
            return False
        self._in_window += 1
        self._lines[key] = now
        if len(self._lines) > 1000:
            self._lines.clear()
        return True


# TaskSort (protocol.json) -> the StepRecord field it orders by, largest first.
_SORT_FIELDS = {"busiest": "total", "slowestStep": "longest", "mostDelayed": "delay_longest"}


class LoopHealth:
    def __init__(self, send_event, stop_blocked, forget_blocked):
        """send_event(event, body); stop_blocked(episode) brings a stop about inside a blocked step,
        forget_blocked(episode) calls off one that has not landed when the step is over (the
        Debugger's, called on the watchdog thread)."""
        self._send_event = send_event
        self._stop_blocked = stop_blocked
        self._forget_blocked = forget_blocked
        self.lints = Lints()
        self.marks = timeline.TimelineMarks()
        self.statistics = StepStatistics.LOOPS
        self.warnings = True
        self.timeline_at_exit = False
        self.threshold = DEFAULT_THRESHOLD
        self.stop_on_blocked = False
        self.pending = {}       # loop id -> Episode: a blocked-loop stop at that loop's next handle or boundary
        self._rate = WarningRate()
        self._warning_hook = WarningHook(self.lints.never_awaited)
        self._exit_registered = False
        blockedloop.watchdog.serve(self._blocked, self._ended, self.flush_lints)
        blockedloop.watchdog.start()

    # --- settings (channel thread) ---------------------------------------------------------------

    def start(self, statistics, warnings):
        """The start request's settings; the program has not run yet."""
        self.statistics = statistics
        self.warnings = warnings
        if statistics == StepStatistics.TASKS:
            stepstats.book.on_self_wakes = self._self_wakes
        self._warning_hook.install()
        if not self._exit_registered:
            self._exit_registered = True
            atexit.register(self.at_exit)  # before the program's own: runs after theirs
        self._configure()

    def set_filter(self, stop_on_blocked, threshold_ms):
        self.stop_on_blocked = stop_on_blocked
        self.threshold = (threshold_ms if threshold_ms is not None else DEFAULT_THRESHOLD * 1000.0) / 1000.0
        self._configure()

    def _configure(self):
        blockedloop.watchdog.configure(self.threshold, self.stop_on_blocked or self.warnings)

    def close(self):
        """Detach: the watchdog thread, the warning hook and the exit report go."""
        self._warning_hook.uninstall()
        self.timeline_at_exit = False
        self.pending.clear()
        stepstats.book.on_self_wakes = None
        blockedloop.watchdog.stop()
        if self._exit_registered:
            self._exit_registered = False
            atexit.unregister(self.at_exit)

    def forked(self):
        """In a forked child: no warning hook, no watchdog, no exit report."""
        self._warning_hook.uninstall()
        self.timeline_at_exit = False
        self.pending.clear()

    # --- which hooks run (see debugger.hook_plan) ---------------------------------------------------

    @property
    def measure(self):
        return stepstats.measured_run if self.statistics == StepStatistics.TASKS else None

    @property
    def sample_ready(self):
        return self.statistics != StepStatistics.TASKS

    # --- moments ---------------------------------------------------------------------------------

    def task_made(self, task, frame, callee):
        self.lints.task_made(task, frame, callee)

    def ready_sample(self, state):
        loop = state.loop
        if loop is not None:
            self.lints.sample_ready(loop)

    def loop_exception(self, context):
        self.lints.loop_exception(context)

    def _self_wakes(self, record, task):
        self.lints.self_wakes(task, "%d of its %d steps were scheduled by itself" % (record.self_wakes, record.steps))

    def on_stop(self, stop, body):
        """A stop is shown: it goes on the timeline, and the lints found so far go out before it."""
        self.marks.stop(stop.state, body["label"], body["description"])
        self.flush_lints()

    def flush_lints(self):
        self.lints.flush(lambda lint: self._send_event("lint", lint))

    # --- blocked steps (watchdog thread) -------------------------------------------------------------

    def _blocked(self, episode):
        state = episode.state
        self.lints.blocked(episode, state.label)
        sentence = self.describe(episode)
        self.marks.blocked_step(state, "loop blocked", sentence, episode.elapsed, episode.location)
        if self.stop_on_blocked:
            self._stop_blocked(episode)
        elif self.warnings:
            key = (state.id, episode.location["path"], episode.location["line"]) if episode.location else (state.id,)
            if self._rate.allow(key):
                left_out, self._rate.left_out = self._rate.left_out, 0
                more = " (%d more blocked step%s not reported)" % (left_out, "" if left_out == 1 else "s") \
                    if left_out else ""
                self._send_event("log", {"level": "warning", "message": "%s. Tick Loop blocked in the Breakpoints "
                                         "view to stop there.%s" % (sentence, more)})
        self.flush_lints()

    def _ended(self, episode):
        """A reported step is over: a line stop still waiting for it is not wanted any more (its stop,
        if it did not land, lands at the loop's next safe point)."""
        self._forget_blocked(episode)

    def describe(self, episode):
        """'Task worker (work) has blocked event loop 1 (MainThread) for 105 ms at app.py:12 in work'."""
        state = episode.state
        task = episode.task
        who = "Task %s" % episode.task_name if episode.task_name else "A callback"
        if task is not None:
            who += " (%s)" % coroutine_name(task_coroutine(task))
        where = ""
        if episode.location is not None:
            where = " at %s" % stepstats.where(episode.location)
            line = source_line(episode.location)
            if line:
                where += ": `%s`" % line
        elif episode.top:
            where = " in %s" % episode.top
        return "%s has blocked %s for %.0f ms%s (threshold %.0f ms)" % (
            who, state.label, episode.elapsed * 1000.0, where, self.threshold * 1000.0)

    # --- what the views and the timeline read --------------------------------------------------------

    def stats_of(self, task):
        """StepStats (protocol.json) of a task, with per-task statistics on; else None."""
        if self.statistics != StepStatistics.TASKS:
            return None
        record = stepstats.book.task_record_of(task)
        return record.snapshot() if record is not None else None

    def sort_key(self, sort):
        """A key that orders tasks by a TaskSort over their step statistics (tasks without any
        last), or None for creation order."""
        field = _SORT_FIELDS.get(sort)
        if field is None:
            return None
        records = stepstats.book

        def key(task):
            record = records.task_record_of(task)
            return (0, -getattr(record, field)) if record is not None else (1, 0.0)
        return key

    def annotate_snapshot(self, loops):
        """Adds LoopStats to every loop of a snapshot body and, with per-task statistics, CallbackStats
        (its tasks get their StepStats from the LoopView: stats_of)."""
        states = {s.id: s for s in registry.loop_states()}
        tasks_on = self.statistics == StepStatistics.TASKS
        book = stepstats.book
        for loop in loops:
            state = states.get(loop["id"])
            if state is not None:
                loop["stats"] = state.stats.snapshot()
            if not tasks_on:
                continue
            callbacks = sorted((r for r in list(book.callbacks.values()) if r.loop_id == loop["id"]),
                               key=lambda r: r.total, reverse=True)[:CALLBACK_STATS_LISTED]
            loop["callbackStats"] = [{"callback": r.name, "stats": r.snapshot()} for r in callbacks]

    def timeline(self, loop_id=None):
        return timeline.build(self.marks, loop_id, self.statistics == StepStatistics.TASKS)

    def at_exit(self):
        """The program is exiting (atexit, after the program's own handlers)."""
        try:
            self.flush_lints()
            if self.timeline_at_exit:
                self._send_event("timeline", self.timeline())
        except Exception:
            pass  # the adapter may be gone already
