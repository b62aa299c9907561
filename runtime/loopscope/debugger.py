"""The debugger: the parts, wired together, and the one listener of instrument.py's hooks.

Each concern is a part with its own module: holding.py (the all-stop and the held loops' inboxes),
stepping.py (steps), breakpoints.py (function breakpoints and task filters), linetrace.py (line
breakpoints and the tracer), pausing.py (pause), stops.py (each stop reason's stop and its words),
stacks.py (call stacks), switches.py (the Task Switches history), snapshot.py (what the views show),
clock.py, health.py (statistics, the blocked-loop watchdog, lints, the timeline). This module
decides, at each hook moment, whether the program stops there, and which hooks run at all
(hook_plan()). Requests from the adapter arrive on the channel thread
(commands.py); work that touches the program's state runs on a held loop's own thread.
"""

import atexit
import collections
import json
import os
import sys
import threading
import time
import traceback
import weakref

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import deadlocks
from . import frames as frame_tools
from . import instrument
from . import linetrace
from . import output
from . import ownership
from . import processhooks
from . import recording
from .perturbation import DEFAULT_JITTER, Perturbation
from . import registry
from . import snapshot as snapshot_tools
from . import stacks
from . import stops
from . import timelimit
from .awaitgraph import AwaitGraph
from .breakpoints import TaskBreakpoints
from .channel import MAX_OUTGOING_FRAME
from .consoleawait import await_on_held_loop
from .health import LoopHealth
from .holding import Holding
from .inspection import StopInspection, condition_holds, safe_repr
from .instrument import HandleHook, HookPlan
from .output import flush_and_drain
from .pausing import Pausing
from .stepping import Stepper
from .switches import SwitchRecorder
from .vocabulary import START_DEFAULTS, ClockMode, DeadlockKind, ResumeMode, StopPlace, TaskFilter, TaskSwitchHistory

# Exceptions that are control flow, not errors: the 'raised' filter passes them by.
_CYCLES = (DeadlockKind.AWAIT_CYCLE, DeadlockKind.LOCK_CYCLE)
_FLOW_EXCEPTIONS = (StopIteration, StopAsyncIteration, GeneratorExit, internals.asyncio.CancelledError,
                    KeyboardInterrupt)

# What the Task Switches history gets under each weight of the per-handle hook.
_RECORDS = {HandleHook.EVERY: "all", HandleHook.LOGGED: "all", HandleHook.TASK_STEPS: "matching", HandleHook.SOURCES: "none",
            HandleHook.OFF: "none"}

# A step from between iterations lets the iteration wait in select() as the program would (loop
# time flows meanwhile, on the frozen clock too, so a short sleep ends in the next step), but the
# user is waiting for the step: a loop that would wait longer is woken after this many seconds.
STEP_WAIT_LIMIT = 1.0

Settings = collections.namedtuple("Settings", "stop_on_entry max_task_threads clock just_my_code record_always "
                                               "track_owners step_statistics loop_blocked_warnings console_await "
                                               "record replay replay_to explore")


_monotonic = time.monotonic


def settings_from(arguments):
    """Settings from a start request's arguments; what they leave out takes START_DEFAULTS."""
    given = dict(START_DEFAULTS, **(arguments or {}))
    return Settings(stop_on_entry=bool(given["stopOnEntry"]), max_task_threads=given["maxTaskThreads"],
                    clock=given["clock"], just_my_code=given["justMyCode"],
                    record_always=given["taskSwitchHistory"] == TaskSwitchHistory.ALWAYS,
                    track_owners=bool(given["trackOwners"]), step_statistics=given["stepStatistics"],
                    loop_blocked_warnings=given["loopBlockedWarnings"], console_await=given["consoleAwait"],
                    record=given.get("record"), replay=given.get("replay"), replay_to=given.get("replayTo"),
                    explore=given.get("explore"))


def hook_plan(entry_pending, pausing, stopping, stepper, breakpoints, tracer, record_always, clock, switch_log,
              health=None, sources=False):
    """Which hooks must run, derived from what each part needs now (see instrument.HookPlan)."""
    whole_iterations = stepper.records_whole_iterations
    names = breakpoints.names
    blocked_stop_pending = bool(health is not None and health.pending)  # at the next handle or boundary
    every_handle = (pausing or stopping or stepper.needs_every_handle or breakpoints.needs_every_handle()
                    or record_always or blocked_stop_pending
                    # Stepping whole iterations records its task switches: by the full hook if
                    # function breakpoints need it anyway, else only logged.
                    or (whole_iterations and bool(names)))
    if every_handle:
        handles = HandleHook.EVERY
    elif names:
        handles = HandleHook.TASK_STEPS  # only task steps that may match reach the listener
    elif whole_iterations:
        handles = HandleHook.LOGGED
    elif sources:
        handles = HandleHook.SOURCES  # explore: which handle queued which
    else:
        handles = HandleHook.OFF
    return HookPlan(
        iterations=bool(entry_pending or pausing or stopping or whole_iterations or blocked_stop_pending
                        or (tracer.needs_thread_sync and tracer.active)),
        handles=handles, after_handles=every_handle or bool(names),
        creation=breakpoints.stops_on(TaskFilter.TASK_CREATED), task_step_names=names,
        switch_log=switch_log if handles == HandleHook.LOGGED else None, autojump=clock == ClockMode.VIRTUAL,
        idle=True, measure=health.measure if health is not None else None, lints=health is not None,
        sample_ready=health is not None and health.sample_ready, sources=sources)


class Debugger(instrument.Listener):
    def __init__(self, send_event, attach_marker=None):
        """attach_marker: the attach bootstrap's marker module when Loopscope joined a running
        program (attachment.py), None when it started the program."""
        self._send_event = send_event
        self._lock = threading.Lock()
        self.settings = settings_from(None)
        self.entry_pending = False
        self.attached = False    # joined a running program (attachment.py): detach ends the session
        self.attaching = False   # the stop that attaching asked for has not been shown yet
        self.closing = False     # detaching: nothing holds any more (close())
        self._unsettled = set()  # while closing: loop ids yet to pass a boundary (close())
        self._settled = threading.Event()
        self.holding = Holding()
        self.breakpoints = TaskBreakpoints()
        self.line_breakpoints = linetrace.BreakpointTable()
        self.tracer = linetrace.make_tracer(self.line_breakpoints, self.on_line, self.on_raise, self.on_return,
                                            self._warn)
        self.stepper = Stepper(self.tracer)
        self.pausing = Pausing(self._hold_busy_code, self._needs_hold, keep=attach_marker)
        self.switches = SwitchRecorder()
        self.finished = registry.FinishedTasks()
        self._deadlocks_told = {}     # loop id -> {deadlocks already told}
        self._next_cycle_check = {}   # loop id -> monotonic time of the next look for cycles
        self._seen_pending = weakref.WeakSet()
        self._loop_views = {}  # loop id -> snapshot.LoopView, for the stop being shown
        # id(exception) -> the task a taskException stop was made for. The task awaiting a failed
        # task often ends with the same exception: one exception to the user, not two. (Exceptions
        # take no weak references; the task, held weakly, vouches that the id is still that one.)
        self._exceptions_stopped_on = weakref.WeakValueDictionary()
        # Events through self._send_event as it is when sent: a forked child replaces it.
        self.health = LoopHealth(lambda event, body: self._send_event(event, body), self._stop_blocked,
                                 lambda episode: self.pausing.forget_busy_code_stop(episode.state.thread_ident, episode))
        self._told_outside_loop = False
        self.tape = None          # the session's recording.Recorder while it records or replays
        self.connected = False    # an adapter is connected: stops can be shown (set by the launcher)
        self.say = None           # without an adapter: where Loopscope's messages go (the launcher's stderr)
        self.hash_seed = None     # the PYTHONHASHSEED Loopscope gave the program, if it did (launcher)
        self.program = None       # the program's path (or "-m module"), for a recording's header
        self._replay_held_at = None  # (loop id, iteration) of a boundary replay_news held: not held again
        timelimit.start()  # the watchdog for reprs and evaluate, there from the start
        me = weakref.ref(self)
        processhooks.after_fork_in_child(lambda: me() is not None and me()._in_forked_child())

    # --- configuration (channel thread) -------------------------------------------------------

    def set_function_breakpoints(self, specs):
        with self._lock:
            results = self.breakpoints.set_function_breakpoints(specs)
            self._apply_hooks()
        return results

    def set_task_filters(self, filters, loop_blocked_ms=None):
        with self._lock:
            self.breakpoints.set_filters(filters)
            self.tracer.update(catching=self.breakpoints.stops_on(TaskFilter.RAISED))
            self.health.set_filter(self.breakpoints.stops_on(TaskFilter.LOOP_BLOCKED), loop_blocked_ms)
            self._apply_hooks()

    def set_line_breakpoints(self, path, specs, lines, problem=None, latest=True):
        """lines: the file's lines with code (None, with problem saying why, if it could not be read);
        latest False: a later request for the file has the say, this one only gets its answer."""
        results = self.line_breakpoints.set(path, specs, lines, problem, replace=latest)
        if latest:
            with self._lock:
                self.tracer.update()
                self._apply_hooks()
        return results

    def start(self, arguments=None, perturbation=None):
        """The start request: settings (see protocol.json), then the program runs. Attached to a
        running program, stopOnEntry is a pause of every loop wherever it is (pause_on_attach()).
        perturbation: an explore run's perturbation.Perturbation (given on the command line, never
        over the channel). A recording that cannot be read or written raises recordfile.RecordingError."""
        self.settings = settings_from(arguments)
        clock_tools.install(self.settings.clock)
        settings = self.settings
        if perturbation is None and settings.explore is not None:
            perturbation = Perturbation(settings.explore["seed"], settings.explore.get("jitter", DEFAULT_JITTER))
        if settings.record or settings.replay or perturbation is not None:
            target = settings.replay_to
            self.tape = recording.Recorder(
                record=settings.record, replay=settings.replay, perturbation=perturbation,
                target=(target["loop"], target["iteration"]) if target else None, hash_seed=self.hash_seed,
                program=self.program)
            recording.install(self.tape, instrument.register)
            instrument.set_tape(self.tape)
            self.tape.start()
            atexit.register(self.tape.finish)
            for warning in self.tape.warnings:
                self._tell("warning", warning)
        if self.settings.track_owners:
            ownership.ownership.on_inversion = self._lock_order_inversion
            ownership.install(on_failure=self._warn)
        self.health.start(self.settings.step_statistics, self.settings.loop_blocked_warnings)
        with self._lock:
            self.entry_pending = self.settings.stop_on_entry and not self.attached
            self._apply_hooks()

    def install_busy_pause(self):
        self.pausing.install_busy_pause()

    def _apply_hooks(self):
        """With the lock held: switch the hooks on only where something needs them."""
        if self.closing:  # only the boundaries where loops settle (close())
            instrument.apply(HookPlan.NOTHING._replace(iterations=bool(self._unsettled)))
            self.switches.recording(_RECORDS[HandleHook.OFF], registry.loop_states())
            return
        plan = hook_plan(self.entry_pending, self.pausing.pending, self.holding.stopping, self.stepper,
                         self.breakpoints, self.tracer, self.settings.record_always, self.settings.clock,
                         self.switches.log, self.health,
                         sources=self.tape is not None and self.tape.perturbation is not None)
        instrument.apply(plan)
        self.switches.recording(_RECORDS[plan.handles], registry.loop_states())

    def _in_forked_child(self):
        """A forked child runs on as plain Python: no events (the adapter debugs the parent), no hooks,
        no holds."""
        self._send_event = lambda event, body: None
        self.holding.forget_in_forked_child()
        self.line_breakpoints.by_path.clear()
        self.tracer.update(stepping=False, catching=False)
        self.health.forked()
        if self.tape is not None:
            self.tape.abandon()
        if instrument.listening(self):
            instrument.uninstall()
        ownership.uninstall()

    # --- moments (loop threads) ---------------------------------------------------------------

    def loop_registered(self, state):
        self._send_event("loopStarted", {"threadId": state.id, "name": state.name})

    def loop_closed(self, state):
        self.health.marks.loop_closed(state)
        if self.tape is not None:
            self.tape.flush()
        body = {"threadId": state.id}
        last = self.switches.last(state.id)
        if last is not None:
            body["lastHandle"] = last
        self._send_event("loopClosed", body)

    def _warn(self, message):
        self._tell("warning", message)

    def _tell(self, level, message):
        """A message for the user: the Debug Console, or stderr without an adapter."""
        if self.connected:
            self._send_event("log", {"level": level, "message": message})
        elif self.say is not None:
            self.say(message)

    def replay_news(self, state, news, text):
        """A recording session passed a boundary that matters (instrument.Listener.replay_news)."""
        if news == "arrived":
            if self.connected:
                self._replay_held_at = (state.id, state.iteration)
                self._hold(stops.arrived(state, live=state.record is not None and not state.record.replaying))
        elif news == "diverged":
            self._tell("warning", text)
            if self.connected:
                self._replay_held_at = (state.id, state.iteration)
                self._hold(stops.divergence(state, text))
        elif news == "failed":
            self._tell("error", text)
        else:
            self._tell("info", text)

    def hooks_disabled(self, reason):
        self._send_event("log", {"level": "error", "message": "Loopscope switched its hooks off after an "
                                 "internal error and can no longer hold the program: %s" % reason})

    def foreign_loop(self, loop):
        kind = type(loop)
        name = "%s.%s" % (kind.__module__, kind.__qualname__)
        self._send_event("log", {"level": "warning", "message": (
            "This program runs an event loop of type %s, which is not built on asyncio's BaseEventLoop: "
            "Loopscope cannot hold, step or show it, and its tasks are not listed. The program runs on as "
            "usual. To debug that loop, let the program use asyncio's own loop while debugging (for uvloop: "
            "skip uvloop.install() or uvloop.run(), or the policy it sets)." % name)})

    def before_iteration(self, state):
        if self.closing:
            return self._settle(state)
        self.tracer.sync_thread()
        if self._replay_held_at == (state.id, state.iteration):
            # replay_news held this boundary already: a step from there ends at the next one.
            self._replay_held_at = None
            return
        if self.holding.stopping:
            return self._hold(stops.quiet(state, StopPlace.ITERATION))
        if state.id in self.health.pending:
            return self._hold_blocked_later(state, StopPlace.ITERATION)
        if self.entry_pending:
            self.entry_pending = False
            return self._hold(stops.entry(state))
        if self.pausing.pending:
            return self._hold(stops.pause(state, StopPlace.ITERATION, attached=self.attaching))
        if self.stepper.ends_at_boundary(state):
            self._hold(stops.step(state, StopPlace.ITERATION))

    def loop_idle(self, state):
        """Nothing is ready and no timer is due: a loop that would now wait for ever while tasks
        wait is deadlocked. Said once per deadlock; a stop when the Deadlock filter is ticked."""
        deadlock = deadlocks.idle_deadlock(state, snapshot_tools.task_ref)
        if deadlock is None:
            self.loop_checkpoint(state)  # waiting on a socket, say, while two tasks wait on each other
            return
        self._tell_deadlocks(state, [deadlock])

    def loop_checkpoint(self, state, every=1.0):
        """At most once a second per loop, while it runs: cycles among its tasks, said at once."""
        now = _monotonic()
        if now < self._next_cycle_check.get(state.id, 0.0):
            return
        self._next_cycle_check[state.id] = now + every
        self._tell_deadlocks(state, deadlocks.running_cycles(state, snapshot_tools.task_ref))

    def _tell_deadlocks(self, state, found):
        """Each deadlock once: an event (a notification in VS Code), and a stop with the Deadlock filter."""
        told = self._deadlocks_told.setdefault(state.id, set())
        new = []
        for deadlock in found:
            key = (deadlock["kind"], deadlock["total"], tuple(ref["id"] for ref in deadlock["tasks"]))
            if key not in told:
                told.add(key)
                new.append(deadlock)
        # An idle loop whose waiting tasks all sit in a cycle already told is that cycle again.
        in_cycles = {ident for kind, _total, ids in told if kind in _CYCLES for ident in ids}
        new = [d for d in new if d["kind"] != DeadlockKind.IDLE_LOOP or d["total"] > len(d["tasks"])
               or not {ref["id"] for ref in d["tasks"]} <= in_cycles]
        stopping = bool(new) and self.breakpoints.stops_on(TaskFilter.DEADLOCK)
        for deadlock in new:
            self._send_event("deadlock", {"loopId": state.id, "deadlock": deadlock, "stops": stopping})
        if stopping:
            self._hold(stops.deadlock(state, new[0]))

    def _lock_order_inversion(self, text):
        """ownership.py saw two locks taken in both orders (on the thread of the task that did it)."""
        loop = internals.get_running_loop()
        state = registry.state_of(loop) if loop is not None else None
        self._send_event("deadlock", {"loopId": state.id if state is not None else 0, "deadlock": {
            "kind": "lockOrderInversion", "description": text, "tasks": [], "total": 0}})

    def before_handle(self, state, handle):
        self._stop_before_handle(state, handle)
        # Recorded after any hold, so that a stop here reports the handle before this one as the last.
        self.switches.before(state, handle, detailed=not self.stepper.records_whole_iterations)

    def _stop_before_handle(self, state, handle):
        if self.holding.stopping:
            return self._hold(stops.quiet(state, StopPlace.HANDLE, handle))
        if state.id in self.health.pending:
            return self._hold_blocked_later(state, StopPlace.HANDLE, handle)
        if self.pausing.pending:
            if internals.handle_owner(handle) is state.loop:
                return  # the wake-up the pause itself caused: the pause lands after it
            return self._hold(stops.pause(state, StopPlace.HANDLE, handle=handle, attached=self.attaching))
        if self.stepper.ends_before_handle(state):
            return self._hold(stops.step(state, StopPlace.HANDLE, handle=handle))
        task = registry.task_of_handle(handle)
        if task is None:
            return
        if self.breakpoints.stops_on(TaskFilter.TASK_SWITCH):
            return self._hold(stops.task_switch(state, handle))
        if self.breakpoints.may_match(task):
            hit = self.breakpoints.hits(task, self._function_condition_holds)
            if hit:
                return self._hold(stops.function_breakpoint(state, handle, hit, self.breakpoints.names_of(hit)))

    def task_finished(self, task):
        """A task finished in a step that before_handle did not see (see instrument.HandleHook)."""
        self.finished.add(task)

    def after_handle(self, state, handle):
        self.switches.after(state)
        task = registry.task_of_handle(handle)
        if task is None or not task.done():
            return
        self.finished.add(task)
        error = internals.future_exception(task)
        if error is not None and self.breakpoints.stops_on(TaskFilter.TASK_EXCEPTION) \
                and not self._stopped_on_before(error, task):
            frames = stacks.traceback_frames(error.__traceback__)
            return self._hold(stops.task_exception(state, task, error, frames[0] if frames else None))
        if self.breakpoints.stops_on(TaskFilter.TASK_DONE):
            self._hold(stops.task_done(state, task))

    def _stopped_on_before(self, error, task):
        """True if a stop was made for this exception already; else note it, as task's."""
        earlier = self._exceptions_stopped_on.get(id(error))
        if earlier is not None and internals.future_exception(earlier) is error:
            return True
        self._exceptions_stopped_on[id(error)] = task
        return False

    def task_made(self, state, task, frame, callee):
        self.health.task_made(task, frame, callee)

    def ready_sample(self, state):
        self.health.ready_sample(state)

    def loop_exception(self, context):
        self.health.loop_exception(context)

    def task_created(self, state, task):
        if not self.breakpoints.stops_on(TaskFilter.TASK_CREATED):
            return
        frame = frame_tools.thread_frames(sys._getframe(1))[0]  # the caller of loop.create_task
        self._hold(stops.task_created(state, frame, task))

    def _function_condition_holds(self, breakpoint, task):
        chain = frame_tools.await_chain(internals.task_coroutine(task))
        frame = chain[-1][1] if chain else None
        for _coro, candidate in reversed(chain):
            if frame_tools.is_user_file(candidate.f_code.co_filename):
                frame = candidate
                break
        return self._condition_holds_or_warn("Breakpoint %r" % breakpoint.name, breakpoint.condition, frame,
                                             [("task", task)])

    def _condition_holds_or_warn(self, which, condition, frame, extra=()):
        """A breakpoint's condition in a frame; one that raises is reported and counts as true."""
        outcome = condition_holds(condition, frame, extra)
        if isinstance(outcome, Exception):
            self._send_event("log", {"level": "warning", "message": "%s: condition %r raised %s: %s; stopping anyway."
                                     % (which, condition, type(outcome).__name__, outcome)})
            return True
        return outcome

    # --- lines (whichever thread runs them) ----------------------------------------------------

    def on_line(self, frame):
        """A line event the tracer passed on: a line breakpoint, or a step that may end here."""
        if self.holding.serving_here or self.holding.stopping:
            return
        loop = internals.get_running_loop()
        state = registry.state_of(loop) if loop is not None else None
        if state is None:
            if not self._told_outside_loop and self.line_breakpoints.at(frame.f_code.co_filename, frame.f_lineno):
                self._told_outside_loop = True
                self._send_event("log", {"level": "info", "message": "Loopscope stops at line breakpoints only in "
                                         "code an event loop runs; %s:%d ran outside one." % (
                                             os.path.basename(frame.f_code.co_filename), frame.f_lineno)})
            return
        stepping = self.stepper.line_step is not None
        if stepping and frame_tools.is_user_file(frame.f_code.co_filename) and self.stepper.line_ends_at(frame, state):
            return self._hold(stops.line_step(state, frame))
        breakpoint = self.line_breakpoints.at(frame.f_code.co_filename, frame.f_lineno)
        if breakpoint is None:
            return
        with self.holding.running_user_code():
            if breakpoint.condition and not self._condition_holds_or_warn(
                    "Breakpoint at %s:%d" % (os.path.basename(breakpoint.path), breakpoint.line), breakpoint.condition,
                    frame):
                return
            if not breakpoint.hit():
                return
            if breakpoint.log_message:
                text = linetrace.interpolate(breakpoint.log_message, frame)
                flush_and_drain()
                self._send_event("logpoint", {"message": text, "path": breakpoint.path, "line": breakpoint.line})
                return
        self._hold(stops.line_breakpoint(state, frame, breakpoint, while_stepping=stepping))

    def on_return(self, frame):
        """A user frame returned while a line step runs: the step may land where it returns to."""
        if self.holding.serving_here or self.holding.stopping or self.stepper.line_step is None:
            return
        loop = internals.get_running_loop()
        state = registry.state_of(loop) if loop is not None else None
        if state is None:
            return
        had_loop_step = self.stepper.loop_step is not None
        if self.stepper.line_returned(frame, state, lambda: _frames_awaiting(frame, state)):
            return self._hold(stops.line_step(state, frame))
        if self.stepper.loop_step is not None and not had_loop_step:
            with self._lock:
                self._apply_hooks()  # nowhere left to land: the step ends with this iteration

    def on_raise(self, frame, error):
        """The 'raised' filter: an exception raised in user code that a loop runs."""
        if self.holding.serving_here or self.holding.stopping or isinstance(error, _FLOW_EXCEPTIONS):
            return
        loop = internals.get_running_loop()
        state = registry.state_of(loop) if loop is not None else None
        if state is None:
            return
        self._hold(stops.raised(state, frame, error))

    # --- holding ------------------------------------------------------------------------------

    def _hold(self, stop):
        """Hold this loop's thread here until the user resumes, serving requests meanwhile. Never on
        a thread that serves a stop already: what the Debug Console runs there (a task it creates,
        one that finishes, the loop an await runs) does not stop again."""
        if self.holding.serving_here:
            return
        with self._lock:
            if self.closing:
                return
            shown = self.holding.begin(stop, self._new_inspection)
            if shown is None:
                return  # a quiet hold whose stop is already over
            self.pausing.holds(stop.state)
            if shown:
                if self.tape is not None:
                    self.tape.flush()  # going back from this stop replays the recording up to here
                self._loop_views = {}
                clock_tools.clock.pause()
                self.pausing.pending = False
                self.attaching = False
                self.stepper.end()
                self._apply_hooks()
        if shown:
            for other in registry.loop_states():
                if other is not stop.state:
                    internals.wake(other.loop)
            body = stops.event_body(stop, self.switches.last(stop.state.id))
            self.health.on_stop(stop, body)
            if stop.state.record is not None:
                body["loopIndex"] = stop.state.record.index
                body["replaying"] = stop.state.record.replaying
            flush_and_drain()
            self._send_event("stopped", body)
        stats = stop.state.stats
        stats.held_since = time.perf_counter()  # the time held is not the loop's (loopstats, blockedloop)
        try:
            self._serve_while_held(stop)
        finally:
            stats.held_seconds += time.perf_counter() - stats.held_since
            stats.held_since = 0.0

    def _new_inspection(self, stop):
        def describe_loop(state):
            held = self.holding.held.get(state.id)
            return stacks.describe_loop(state, held.where if held is not None else None)
        return StopInspection(stacks.describe_task, describe_loop, exception=stop.exception,
                              run_awaited=self._run_awaited)

    def _run_awaited(self, coroutine, limit):
        """An expression with await, on the loop held on this thread (consoleawait.py)."""
        ident = threading.get_ident()
        with self._lock:
            stop = next((s for s in self.holding.held.values() if s.state.thread_ident == ident), None)
        where = stop.where if stop is not None else None
        return await_on_held_loop(coroutine, where, self.settings.console_await, limit)

    def _hold_busy_code(self, state, frame):
        """A pause reached a loop busy in a callback, inside that code (pausing.py): the pause's
        stop, or a quiet hold when another loop's stop is shown already."""
        if self.holding.stopping:
            self._hold(stops.quiet(state, StopPlace.CODE, frame=frame))
        else:
            self._hold(stops.pause(state, StopPlace.CODE, frame=frame, attached=self.attaching))

    def _needs_hold(self, state):
        """Whether a pause (or the all-stop after it) has yet to hold this loop."""
        if self.closing:
            return False
        return self.pausing.pending or (self.holding.stopping and state.id not in self.holding.held)

    # --- a step that blocks its loop (blockedloop.py finds it, on the watchdog thread) ------------

    def _stop_blocked(self, episode):
        """Bring a stop about inside the blocked step: on the main thread through the pause signal
        (which also interrupts a call blocked in C), on another thread (3.9+) at its next line in
        the step's frames (busycode.py). Should neither land inside the step, the stop is at the loop's next handle
        or boundary after it, which is asked for first."""
        state = episode.state
        with self._lock:
            if self.holding.stopping:
                return
            self.health.pending[state.id] = episode
            self._apply_hooks()
        hold = lambda frame: self._hold_blocked(episode, frame)  # noqa: E731
        if state.thread_ident == self.pausing.main_ident and self.pausing.can_interrupt_main:
            self.pausing.interrupt_main(hold)
        else:
            self.pausing.stop_in_busy_code(state.thread_ident, hold, episode)

    def _hold_blocked(self, episode, frame):
        """On the blocked loop's thread, inside the step (a signal handler or a line event). Code of
        Loopscope's own may be running there, even inside the debugger's lock: then nothing is done
        here, and the stop lands at the next safe point instead."""
        if frame is None or frame_tools.is_loopscope_file(frame.f_code.co_filename) or self.holding.stopping \
                or self.holding.serving_here or not episode.still_running() \
                or self.health.pending.get(episode.state.id) is not episode:
            return
        del self.health.pending[episode.state.id]
        description = self.health.describe(episode)
        self._hold(stops.loop_blocked(episode.state, description, frame=frame))

    def _hold_blocked_later(self, state, where, handle=None):
        episode = self.health.pending.pop(state.id)
        description = "%s; it is over, and Loopscope stops at the loop's next %s" % (
            self.health.describe(episode), "handle" if where == StopPlace.HANDLE else "iteration")
        return self._hold(stops.loop_blocked(state, description, where=where, handle=handle))

    def _serve_while_held(self, stop):
        stop.state.held = True  # clock readings meanwhile are the user's, not the run's (recording.py)
        try:
            self.holding.serve(stop)
        finally:
            stop.state.held = False
        timelimit.end_repr_worker()  # the stop's threads end before the program runs again
        if self.stepper.ends_before_handle(stop.state):
            self._tell_what_step_into_waits_for(stop.state)
        # Back to the program: trace this thread as the settings now say (a line step may start here).
        self.tracer.sync_thread(stop.frame if stop.where == StopPlace.CODE else None)

    def _tell_what_step_into_waits_for(self, state):
        """Step Into waits for the loop's next handle: when none is ready, say what will make one."""
        loop = state.loop
        if loop is None or any(not h.cancelled() for h in internals.ready_queue(loop)):
            return
        self._send_event("log", {"level": "info", "message": "Step Into waits for the next handle of %s: %s. "
                                 "Pause to stop waiting." % (state.label, snapshot_tools.what_wakes(loop))})

    # --- requests from the adapter (channel thread) --------------------------------------------

    def resume(self, mode, thread_id=None):
        with self._lock:
            holding = self.holding
            if not holding.stopping and not holding.held:
                return
            if mode != ResumeMode.CONTINUE:
                state = registry.state_for_thread(thread_id)
                stop = (holding.held.get(state.id) if state is not None else None) or holding.primary
                if stop is not None:
                    self.stepper.begin(mode, stop)
                    # A step from between iterations runs the next one as the program would,
                    # its wait in select() included, up to STEP_WAIT_LIMIT.
                    if stop.where == StopPlace.ITERATION and self.stepper.ends_at_boundary(stop.state):
                        stop.state.wait_limit = STEP_WAIT_LIMIT
            released = holding.release()
            self._loop_views = {}
            clock_tools.clock.resume()
            self._apply_hooks()
        holding.wake(released)

    def pause(self):
        with self._lock:
            if self.holding.stopping:
                return
            self.pausing.pending = True
            self._apply_hooks()
        self.pausing.interrupt()

    def pause_on_attach(self, busy_delay):
        """Just attached: hold every loop where it is, and say so. A loop that has not reached a
        boundary after busy_delay seconds is stopped inside the code it runs."""
        with self._lock:
            self.attaching = True
            self.pausing.pending = True
            self._apply_hooks()
        self.pausing.interrupt(busy_delay)

    # --- detach ---------------------------------------------------------------------------------

    def close(self, settle_timeout=1.0):
        """Detach: release every held loop and take everything of Loopscope's out, so that the
        program runs on as it would have without it. Each loop passes one more boundary on its own
        thread (settle()), where its trace function goes and its timers return to the plain clock;
        a loop that has not done so within settle_timeout (busy in a callback) is left as it is.
        Returns the states of the loops that did not settle."""
        with self._lock:
            if self.closing:
                return []
            self.closing = True
            self.entry_pending = self.attaching = False
            self._send_event = lambda event, body: None
            self.breakpoints.set_function_breakpoints([])
            self.breakpoints.set_filters([])
            self.tracer.close()
            self.stepper.end()
            released = self.holding.release()
            clock_tools.clock.resume()
            self._unsettled = {state.id for state in registry.loop_states() if not state.loop.is_closed()}
            if not self._unsettled:
                self._settled.set()
            self._apply_hooks()
        self.holding.wake(released)
        self.pausing.close()
        for state in registry.loop_states():
            internals.wake(state.loop)
        self._settled.wait(settle_timeout)
        with self._lock:
            unsettled = [state for state in registry.loop_states() if state.id in self._unsettled]
            self._unsettled = set()
            self._apply_hooks()
        output.set_held(False)
        timelimit.stop()
        self.health.close()
        ownership.uninstall()
        return unsettled

    def _settle(self, state):
        """Closing, at a loop's boundary on its own thread: its last moment with Loopscope."""
        self.tracer.sync_thread()  # before 3.12: this thread's trace function goes
        clock_tools.return_to_plain_clock(state)
        with self._lock:
            self._unsettled.discard(state.id)
            if not self._unsettled:
                self._settled.set()
                self._apply_hooks()

    @property
    def inspection(self):
        return self.holding.inspection

    def on_held_thread(self, work, done, thread_id=None):
        """Run work() on a held loop's thread; done(result, error) gets the answer."""
        with self._lock:
            state = registry.state_for_thread(thread_id) if thread_id is not None else None
            stop = self.holding.held.get(state.id) if state is not None else None
            stop = stop or self.holding.primary
        if stop is None:
            done(None, "the program is running; pause it first")
            return
        self.holding.post(stop, work, done)

    def threads(self):
        """Each live loop, then its pending tasks (at most max_task_threads in all, and no more than
        half a frame's worth of them: the rest are counted as left out)."""
        threads, left_out = [], 0
        loops = registry.loop_states()
        room_bytes = MAX_OUTGOING_FRAME // 2
        for state in loops:
            threads.append({"id": state.id, "name": state.name})
            loop = state.loop
            if loop is None or loop.is_closed():
                continue
            tasks = sorted(registry.pending_tasks(loop), key=registry.task_id)
            room = max(0, self.settings.max_task_threads - (len(threads) - len(loops)))
            for index, task in enumerate(tasks[:room]):
                name = stacks.task_thread_name(task)
                room_bytes -= 32 + len(json.dumps(name, ensure_ascii=False).encode("utf-8", "surrogatepass"))
                if room_bytes < 0:
                    room = index
                    break
                threads.append({"id": registry.task_id(task), "name": name})
            left_out += max(0, len(tasks) - room)
        # The task the stop is about is always a thread, so that the client can show where it is,
        # whatever the cap (VS Code focuses the stopped thread's top frame).
        primary = self.holding.primary
        subject = primary.subject_task() if primary is not None else None
        if subject is not None and registry.task_id(subject) not in {t["id"] for t in threads}:
            threads.append({"id": registry.task_id(subject), "name": stacks.task_thread_name(subject)})
            left_out = max(0, left_out - 1)
        return threads, left_out

    # --- inspection (held loop thread) ---------------------------------------------------------

    def stack_trace(self, thread_id):
        inspection = self.holding.inspection
        if inspection is None:
            raise LookupError("the program is running; pause it first")
        return stacks.stack_trace(inspection, thread_id, self.holding.held, self.settings.just_my_code)

    def exception_info(self):
        stop = self.holding.primary
        error = stop.exception if stop is not None else None
        if error is None:
            raise LookupError("the program is not stopped on an exception")
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        kind = type(error)
        name = kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)
        return {"exceptionId": name, "description": safe_repr(str(error), 1000), "breakMode": "always",
                "details": {"message": safe_repr(str(error), 1000), "typeName": kind.__qualname__,
                            "fullTypeName": name, "stackTrace": text}}

    def snapshot(self, loop_id, max_tasks, max_futures=500):
        """Runs on the primary held thread; loops that are not held report 'running'."""
        loops = []
        for state in registry.loop_states():
            if loop_id is not None and state.id != loop_id:
                continue
            stop = self.holding.held.get(state.id)
            view = self._loop_view(state) if stop is not None else None
            loops.append(snapshot_tools.snapshot_loop(state, view, self.settings.clock, max_tasks, self.switches,
                                                      stop.where if stop is not None else None, max_futures))
        self.health.annotate_snapshot(loops)
        return {"loops": loops}

    def timeline(self, loop_id=None):
        """The timeline (protocol.json): Loopscope's own records only, so any thread may ask."""
        return self.health.timeline(loop_id)

    def tasks(self, loop_id, group_by, text, group, start, count, ids=None, sort=None):
        """One loop's tasks, grouped and filtered, or a page of one group, or tasks by id
        (protocol.json: tasks)."""
        if loop_id is None:
            if not ids:
                raise LookupError("say which loop (loopId), or which tasks (ids)")
            state = registry.state_for_thread(ids[0])
            if state is None:
                return {"total": 0, "matching": 0, "tasks": []}  # gone since the row was made
        else:
            state = registry.state_for_thread(loop_id)
        if state is None or (loop_id is not None and state.id != loop_id):
            raise LookupError("no event loop with id %d" % loop_id)
        if state.id not in self.holding.held:
            raise LookupError("%s is running; its tasks are shown while it is held" % state.label)
        steps, _ended = self.switches.steps()
        return snapshot_tools.task_page(self._loop_view(state), group_by, text, group, start, count, steps, ids,
                                        self.health.sort_key(sort))

    def _loop_view(self, state):
        """The held loop's tasks and await graph, worked out once for the stop."""
        view = self._loop_views.get(state.id)
        if view is None:
            self._note_finished()
            stop = self.holding.held.get(state.id)
            handle = stop.handle if stop is not None and stop.where == StopPlace.HANDLE else None
            view = self._loop_views[state.id] = snapshot_tools.LoopView(state, handle, self.finished)
            view.stats_of = self.health.stats_of
            self._seen_pending.update(view.index.pending)
        return view

    def forget_loop_views(self):
        """The program's state may have changed while held (Cancel Task, the Debug Console): the
        next snapshot works it out again."""
        self._loop_views = {}

    def _note_finished(self):
        for task in list(self._seen_pending):
            if task.done():
                self._seen_pending.discard(task)
                self.finished.add(task)
        for task in self.switches.steps()[1]:  # seen in the task-switch history, finished since
            self.finished.add(task)

    def advance_clock(self, seconds):
        if not self.holding.stopping:
            raise LookupError("the loop clock can only be moved while the program is paused")
        clock_tools.clock.advance(seconds)
        self.forget_loop_views()
        return {"time": max((_loop_time(s.loop) for s in registry.loop_states()), default=0.0)}

    def cancel_task(self, task_id):
        task = registry.task_by_id(task_id)
        if task is None:
            raise LookupError("no task with id %d (it may have finished)" % task_id)
        if task.done():
            raise LookupError("task %s has already %s" % (registry.task_name(task), stops.outcome(task)))
        loop = internals.future_loop(task)
        name, place = registry.task_name(task), frame_tools.resume_site(task)[0]
        if internals.get_running_loop() is loop:
            task.cancel()  # its loop is held on this thread: views show it cancelling at once
        else:
            loop.call_soon_threadsafe(task.cancel)
        self.forget_loop_views()
        where = " at %s:%d" % (os.path.basename(place[0]), place[1]) if place is not None else ""
        self._send_event("log", {"level": "info", "message": "Task %s will be cancelled: CancelledError is raised "
                                 "where it awaits%s at its next step." % (name, where)})
        return {}


def _frames_awaiting(frame, state):
    """If frame is the own coroutine of the task running on the state's loop, the frames where the
    tasks awaiting that task (directly, or through gather, wait_for, shield...) will resume."""
    loop = state.loop
    task = internals.current_task(loop) if loop is not None else None
    if task is None or frame_tools.coroutine_frame(internals.task_coroutine(task)) is not frame:
        return []
    graph = AwaitGraph(registry.pending_tasks(loop), ())
    frames = []
    for waiter in graph.waiters_of(task):
        chain = frame_tools.await_chain(internals.task_coroutine(waiter))
        user = [f for _coro, f in chain if frame_tools.is_user_file(f.f_code.co_filename)]
        if user:
            frames.append(user[-1])
    return frames


def _loop_time(loop):
    try:
        return float(clock_tools.peek(loop)) if loop is not None else 0.0
    except Exception:
        return 0.0
