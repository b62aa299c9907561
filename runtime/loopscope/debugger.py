"""The debugger: the parts, wired together, and the one listener of instrument.py's hooks.

Each concern is a part with its own module: holding.py (the all-stop and the held threads' inboxes),
stepping.py (steps), breakpoints.py (function breakpoints and task filters), exceptionrules.py
(which exceptions stop), linetrace.py (line breakpoints and the tracer), plainthreads.py (threads
that run no loop), pausing.py (pause), stops.py (each stop reason's stop and its words), stacks.py
(call stacks), switches.py (the Task Switches history), snapshot.py (what the views show), clock.py,
health.py (statistics, the blocked-loop watchdog, lints, the timeline). This module decides, at each
hook moment, whether the program stops there, and which hooks run at all (hook_plan()). Requests
from the adapter arrive on the channel thread (commands.py); work that touches the program's state
runs on a held thread.

A stop is on a loop (its state is the loop's registry.LoopState) when a loop Loopscope knows runs on
the thread that stops, else on that thread itself (a plainthreads.ThreadState). All-stop: the other
loops hold at their next boundary or handle, the other threads at their next line of user code.
"""

import atexit
import collections
import json
import os
import sys
import threading
import time
import weakref

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import deadlocks
from . import ending
from . import frames as frame_tools
from . import instrument
from . import linetrace
from . import output
from . import ownership
from . import plainthreads
from . import processhooks
from . import recording
from .perturbation import DEFAULT_JITTER, Perturbation
from . import registry
from . import snapshot as snapshot_tools
from . import stacks
from . import stops
from . import timelimit
from . import uncaught
from .awaitgraph import AwaitGraph
from .breakpoints import TaskBreakpoints
from .channel import MAX_OUTGOING_FRAME
from .consoleawait import await_on_held_loop
from .exceptionrules import ExceptionRules
from .health import LoopHealth
from .holding import Holding
from .inspection import StopInspection, condition_holds, frame_names, safe_repr
from .instrument import HandleHook, HookPlan, callback_name
from .output import flush_and_drain
from .pausing import Pausing
from .plainthreads import PlainThreads
from .stepping import Stepper
from .switches import SwitchRecorder
from .vocabulary import START_DEFAULTS, ClockMode, DeadlockKind, ResumeMode, StopPlace, TaskFilter, TaskSwitchHistory

# Exceptions that are control flow, not errors: the exception filters pass them by.
_CYCLES = (DeadlockKind.AWAIT_CYCLE, DeadlockKind.LOCK_CYCLE)
_FLOW_EXCEPTIONS = (StopIteration, StopAsyncIteration, GeneratorExit, internals.asyncio.CancelledError,
                    KeyboardInterrupt)
_ENDINGS = _FLOW_EXCEPTIONS + (SystemExit,)

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
        self.started = False   # the program runs (the start request came)
        self.entry_pending = False
        self.attached = False    # joined a running program (attachment.py): detach ends the session
        self.attaching = False   # the stop that attaching asked for has not been shown yet
        self.closing = False     # detaching: nothing holds any more (close())
        self.interrupted_in_hold = False  # close(interrupt_main=True) found the main thread held
        self._unsettled = set()  # while closing: loop ids yet to pass a boundary (close())
        self._settled = threading.Event()
        self.holding = Holding()
        self.breakpoints = TaskBreakpoints()
        self.exceptions = ExceptionRules()
        self.plain_threads = PlainThreads()
        self.line_breakpoints = linetrace.BreakpointTable()
        self.tracer = linetrace.make_tracer(self.line_breakpoints, self.on_line, self.on_raise, self.on_return,
                                            self._warn, self.on_entry)
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
        self.tape = None          # the session's recording.Recorder while it records or replays
        self.connected = False    # an adapter is connected: stops can be shown (set by the launcher)
        self.say = None           # without an adapter: where Loopscope's messages go (the launcher's stderr)
        self.hash_seed = None     # the PYTHONHASHSEED Loopscope gave the program, if it did (launcher)
        self.program = None       # the program's path (or "-m module"), for a recording's header
        self._replay_held_at = None  # (loop id, iteration) of a boundary replay_news held: not held again
        timelimit.start()  # the watchdog for reprs and evaluate, there from the start
        me = weakref.ref(self)
        uncaught.listen(lambda thread, error: me() is not None and me().uncaught_in_thread(thread, error))
        processhooks.after_fork_in_child(lambda: me() is not None and me()._in_forked_child())

    # --- configuration (channel thread) -------------------------------------------------------

    def set_function_breakpoints(self, specs):
        with self._lock:
            results = self.breakpoints.set_function_breakpoints(specs)
            self.tracer.update(entries=self.breakpoints.function_names())
            self._apply_hooks()
        self._main_thread_catches_up()
        return results

    def set_task_filters(self, filters, loop_blocked_ms=None, filter_options=(), exception_options=()):
        """The task filters and exception rules (protocol.json setTaskFilters); a FilterResult for
        each filter, filter option and exception option."""
        with self._lock:
            results = self.exceptions.set(filters, filter_options, exception_options)
            taken = [option["filter"] for option, result in zip(filter_options, results[len(filters):])
                     if result["verified"]]  # a filter whose condition was refused stays off
            self.breakpoints.set_filters(set(filters) | set(taken))
            self.tracer.update(catching=self.exceptions.catching)
            self.health.set_filter(self.breakpoints.stops_on(TaskFilter.LOOP_BLOCKED), loop_blocked_ms)
            self._apply_hooks()
        self._main_thread_catches_up()
        return results

    def set_line_breakpoints(self, path, specs, lines, problem=None, latest=True):
        """lines: the file's lines with code (None, with problem saying why, if it could not be read);
        latest False: a later request for the file has the say, this one only gets its answer."""
        results = self.line_breakpoints.set(path, specs, lines, problem, replace=latest)
        if latest:
            with self._lock:
                self.tracer.update()
                self._apply_hooks()
            self._main_thread_catches_up()
        return results

    def _main_thread_catches_up(self):
        """Before 3.12, after the trace settings changed: a loop's thread catches up at its next
        boundary, but the main thread running no loop (module-level code) would never; a signal
        makes it take them up where it is."""
        if not (self.tracer.needs_thread_sync and self.started):
            return
        main = threading.main_thread().ident
        if main not in plainthreads.running_loop_threads() and main != threading.get_ident():
            self.pausing.run_on_main_thread(lambda frame: self.tracer.sync_thread(frame, everything=False))

    def start(self, arguments=None, perturbation=None):
        """The start request: settings (see protocol.json), then the program runs. Attached to a
        running program, stopOnEntry is a pause of every loop wherever it is (pause_on_attach()).
        perturbation: an explore run's perturbation.Perturbation (given on the command line, never
        over the channel). A recording that cannot be read or written raises recordfile.RecordingError."""
        self.settings = settings_from(arguments)
        self.started = True
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
            self.tracer.update(any_code=not self.settings.just_my_code)
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
        self.exceptions.set(())
        self.plain_threads.forget_all()
        self.tracer.update(stepping=False, catching=False, suspending=False, entries=None)
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
                and not self._stopped_on_before(error):
            frames = stacks.traceback_frames(error.__traceback__)
            frame = frames[0] if frames else None
            if self._exception_stops(TaskFilter.TASK_EXCEPTION, error, frame, task):
                self._exceptions_stopped_on[id(error)] = task
                return self._hold(stops.task_exception(state, task, error, frame))
        if self.breakpoints.stops_on(TaskFilter.TASK_DONE):
            self._hold(stops.task_done(state, task))

    def _stopped_on_before(self, error):
        """True if a task's exception stop was made for this exception already (the task awaiting a
        failed task often ends with the same exception, and so may the program: one stop, not two)."""
        earlier = self._exceptions_stopped_on.get(id(error))
        return earlier is not None and internals.future_exception(earlier) is error

    def _exception_stops(self, moment, error, frame, task=None):
        """Do the exception rules stop for this exception at this moment (a TaskFilter)? A condition
        runs in frame with `exception` (and `task`) bound; one that raises is reported and counts as
        true."""
        def evaluate(code):
            names = frame_names(frame) if frame is not None else {}
            names["exception"] = error
            if task is not None:
                names["task"] = task
            return eval(code, names)
        with self.holding.running_user_code():
            try:
                return self.exceptions.stops(moment, error, evaluate)
            except Exception as problem:
                condition = self.exceptions.conditions.get(moment)
                self._send_event("log", {"level": "warning", "message": "The %s filter's condition %r raised %s: %s; "
                                         "stopping anyway." % (moment, condition.text if condition else "",
                                                               type(problem).__name__, problem)})
                return True

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

    # --- lines, function entries, exceptions (whichever thread runs them) --------------------------

    def _running_here(self, frame):
        """Whose code the calling thread runs: its running loop's state, or, on a thread that runs
        no loop Loopscope knows, the thread's own state; None on Loopscope's own threads. frame is
        the thread's innermost frame of interest."""
        loop = internals.get_running_loop()
        if loop is not None:
            state = registry.state_of(loop)
            if state is not None:
                return state
        return self.plain_threads.current(frame)

    def on_line(self, frame):
        """A line event the tracer passed on: a line breakpoint, a step that may end here, or (while
        the program is held, or a pause is wanted) a thread that holds here."""
        holding = self.holding
        if holding.serving_here:
            return
        state = self._running_here(frame)
        if state is None:
            return
        user_line = frame_tools.is_user_file(frame.f_code.co_filename)
        if not state.is_loop and user_line:
            if holding.stopping:
                # All-stop: this thread holds here until the user resumes, then goes on as below
                # (a breakpoint on this very line still stops).
                if self._hold(stops.quiet(state, StopPlace.CODE, frame=frame)) is None:
                    return
            elif self.pausing.pending:
                return self._hold(stops.pause(state, StopPlace.CODE, frame=frame))
        if holding.stopping:
            return
        stepping = self.stepper.line_step is not None
        if stepping and user_line and self.stepper.line_ends_at(frame, state):
            return self._hold(stops.line_step(state, frame))
        breakpoint = self.line_breakpoints.at(frame.f_code.co_filename, frame.f_lineno)
        if breakpoint is None:
            return
        with holding.running_user_code():
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

    def on_entry(self, frame):
        """A function a function breakpoint names is at its first line: True if the program stopped
        here (the tracer then skips the line's other business)."""
        holding = self.holding
        if holding.serving_here or holding.stopping:
            return False
        state = self._running_here(frame)
        if state is None:
            return False
        task = internals.current_task(state.loop) if state.is_loop and state.loop is not None else None
        extra = [("task", task)] if task is not None else []
        with holding.running_user_code():
            hit = self.breakpoints.entry_hits(frame, lambda bp: self._condition_holds_or_warn(
                "Breakpoint %r" % bp.name, bp.condition, frame, extra))
        if not hit:
            return False
        self._hold(stops.function_entry(state, frame, hit, self.breakpoints.names_of(hit)))
        return True

    def on_return(self, frame):
        """A user frame returned while a line step runs: the step may land where it returns to."""
        if self.holding.serving_here or self.holding.stopping or self.stepper.line_step is None:
            return
        state = self._running_here(frame)
        if state is None:
            return
        had_loop_step = self.stepper.loop_step is not None
        if self.stepper.line_returned(frame, state, lambda: _frames_awaiting(frame, state)):
            return self._hold(stops.line_step(state, frame))
        if self.stepper.loop_step is not None and not had_loop_step:
            with self._lock:
                self._apply_hooks()  # nowhere left to land: the step ends with this iteration

    def on_raise(self, frame, error):
        """The 'raised' filter and exception options: an exception raised where frame runs (or, from a
        library, that reached user code in frame)."""
        if self.holding.serving_here or self.holding.stopping or isinstance(error, _FLOW_EXCEPTIONS):
            return
        state = self._running_here(frame)
        if state is None:
            return
        if self._exception_stops(TaskFilter.RAISED, error, frame):
            self._hold(stops.raised(state, frame, error))

    def uncaught_at_top(self, error):
        """An exception ends the program at module level (program.py), before Python reports it."""
        self._stop_uncaught(error, "it ends the program", sys._getframe(1))

    def uncaught_in_thread(self, thread, error):
        """An exception ends a threading thread (uncaught.py), before threading reports it."""
        self._stop_uncaught(error, "it ends thread %s" % getattr(thread, "_name", "?"), sys._getframe(1))

    def exception_reported(self, state, context):
        """loop.call_exception_handler(context): an exception a callback (or a transport, a
        protocol...) raised and nothing caught reaches the loop's handler. A task's or future's
        exception that nobody retrieved is reported at garbage collection: that is not a place to stop."""
        error = context.get("exception")
        if not isinstance(error, BaseException) or "future" in context or "task" in context:
            return
        handle = context.get("handle")
        source = "callback %s" % callback_name(internals.handle_callback(handle)) if handle is not None else "the program"
        loop = state.label if state is not None else "the event loop"
        self._stop_uncaught(error, "%s passes it to the exception handler of %s" % (source, loop), sys._getframe(1),
                            state)

    def _stop_uncaught(self, error, consequence, frame, state=None):
        if not self.exceptions.uncaught_wanted or isinstance(error, _ENDINGS) or self.holding.serving_here:
            return
        if self._stopped_on_before(error):
            return
        frames = stacks.traceback_frames(error.__traceback__, self.settings.just_my_code)
        if not frames and self.settings.just_my_code:
            return  # it never ran through the program's own code
        shown = frames[0] if frames else None
        state = state or self._running_here(frame)
        if state is None or not self._exception_stops(TaskFilter.UNCAUGHT, error, shown):
            return
        # Held quietly while another stop is shown: shown itself once that one is over.
        for _attempt in range(3):
            if self._hold(stops.uncaught(state, shown, error, consequence)) is not False:
                return

    # --- holding ------------------------------------------------------------------------------

    def _hold(self, stop):
        """Hold this thread here until the user resumes, serving requests meanwhile. True if this
        was the stop the user sees, False if it was held quietly (another stop is shown), None if it
        was not held (a quiet hold whose stop was already over)."""
        if self.holding.serving_here:
            return None
        # What the stop runs of the program's code on this thread (a loop's own time(), the reprs
        # in its event) must not stop it again: a second hold here would wait for itself.
        with self.holding.running_user_code():
            shown = self._hold_here(stop)
        if stop.interrupt:
            ending.interrupt_this_thread()  # raises KeyboardInterrupt here, unless the program's handler does not
        return shown

    def _hold_here(self, stop):
        with self._lock:
            if self.closing:
                return
            shown = self.holding.begin(stop, self._new_inspection)
            if shown is None:
                return None
            self.pausing.holds(stop.state)
            if shown:
                if self.tape is not None:
                    self.tape.flush()  # going back from this stop replays the recording up to here
                self._loop_views = {}
                clock_tools.clock.pause()
                self.pausing.pending = False
                self.attaching = False
                self.stepper.end()
                # All-stop for the threads that run no loop: each holds at its next line of user code.
                suspending = self.plain_threads.others_may_run()
                if suspending != self.tracer.suspending:
                    self.tracer.update(suspending=suspending)
                self._apply_hooks()
        if shown:
            for other in registry.loop_states():
                if other is not stop.state:
                    internals.wake(other.loop)
            body = stops.event_body(stop, self.switches.last(stop.state.id) if stop.state.is_loop else None)
            self.health.on_stop(stop, body)
            if stop.state.record is not None:
                body["loopIndex"] = stop.state.record.index
                body["replaying"] = stop.state.record.replaying
            flush_and_drain()
            self._send_event("stopped", body)
        if not stop.state.is_loop:
            self._serve_while_held(stop)
            return shown
        stats = stop.state.stats
        stats.held_since = time.perf_counter()  # the time held is not the loop's (loopstats, blockedloop)
        try:
            self._serve_while_held(stop)
        finally:
            stats.held_seconds += time.perf_counter() - stats.held_since
            stats.held_since = 0.0
        return shown

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
        # Meanwhile threads that run no loop and are not held yet run on: executor jobs the expression
        # starts, and the program's threads that hand the loop what the expression waits for.
        with self._lock:
            suspending = self.tracer.suspending
            if suspending:
                self.tracer.update(suspending=False)
        try:
            return await_on_held_loop(coroutine, where, self.settings.console_await, limit)
        finally:
            with self._lock:
                if suspending and self.holding.stopping and not self.tracer.suspending:
                    self.tracer.update(suspending=self.plain_threads.others_may_run())

    def _hold_busy_code(self, state, frame):
        """A pause reached busy code (pausing.py): a loop busy in a callback, inside that code, or
        (state None) the main thread running no loop. The pause's stop, or a quiet hold when another
        stop is shown already."""
        if state is None:
            if self.holding.stopping:
                return  # it holds at its next line of user code, as the other threads do
            frames = frame_tools.thread_frames(frame)  # from the first frame that is not Loopscope's
            state = self.plain_threads.current(frames[0]) if frames else None
            if state is None:
                return
            frame = frames[0]
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
        if stop.state.is_loop and self.stepper.ends_before_handle(stop.state):
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
                state = self._state_for_thread(thread_id)
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
            if self.tracer.suspending:
                self.tracer.update(suspending=False)
            self._apply_hooks()
        holding.wake(released)

    def pause(self):
        with self._lock:
            if self.holding.stopping:
                return
            self.pausing.pending = True
            if not self.tracer.suspending:
                self.tracer.update(suspending=True)  # a thread that runs no loop takes it at its next user line
            self._apply_hooks()
        self.pausing.interrupt()

    def _state_for_thread(self, thread_id):
        """The loop or thread behind a DAP thread id (a loop's, a task's, or a thread's own)."""
        state = registry.state_for_thread(thread_id)
        if state is None and thread_id is not None:
            state = self.plain_threads.by_id(thread_id)
        return state

    def pause_on_attach(self, busy_delay):
        """Just attached: hold every loop where it is, and say so. A loop that has not reached a
        boundary after busy_delay seconds is stopped inside the code it runs."""
        with self._lock:
            self.attaching = True
            self.pausing.pending = True
            self._apply_hooks()
        self.pausing.interrupt(busy_delay)

    # --- detach ---------------------------------------------------------------------------------

    def close(self, settle_timeout=1.0, interrupt_main=False):
        """Detach: release every held loop and take everything of Loopscope's out, so that the
        program runs on as it would have without it. Each loop passes one more boundary on its own
        thread (settle()), where its trace function goes and its timers return to the plain clock;
        a loop that has not done so within settle_timeout (busy in a callback) is left as it is.
        interrupt_main (Stop): a main thread held now is interrupted as it leaves its hold, as by
        Ctrl+C at the place it was held (interrupted_in_hold says it was).
        Returns the states of the loops that did not settle."""
        with self._lock:
            if self.closing:
                return []
            self.closing = True
            self.entry_pending = self.attaching = False
            self._send_event = lambda event, body: None
            self.breakpoints.set_function_breakpoints([])
            self.breakpoints.set_filters([])
            self.exceptions.set(())
            uncaught.listen(None)
            self.tracer.close()
            self.stepper.end()
            released = self.holding.release()
            interrupted = set()  # a loop interrupted as it leaves its hold passes no more boundaries
            if interrupt_main:
                for stop in released:
                    if stop.thread_ident == ending.MAIN_IDENT:
                        stop.interrupt = self.interrupted_in_hold = True
                        interrupted.add(stop.state.id)
            clock_tools.clock.resume()
            self._unsettled = {state.id for state in registry.loop_states()
                               if not state.loop.is_closed() and state.id not in interrupted}
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
            state = self._state_for_thread(thread_id) if thread_id is not None else None
            stop = self.holding.held.get(state.id) if state is not None else None
            stop = stop or self.holding.primary
        if stop is None:
            done(None, "the program is running; pause it first")
            return
        self.holding.post(stop, work, done)

    def threads(self):
        """Each live loop, each thread of the program's that runs no loop, then the loops' pending
        tasks (at most max_task_threads in all, and no more than half a frame's worth of them: the
        rest are counted as left out)."""
        loops = registry.loop_states()
        threads = [{"id": state.id, "name": state.name} for state in loops + self.plain_threads.listed()]
        not_tasks, left_out = len(threads), 0
        room_bytes = MAX_OUTGOING_FRAME // 2
        for state in loops:
            loop = state.loop
            if loop is None or loop.is_closed():
                continue
            tasks = sorted(registry.pending_tasks(loop), key=registry.task_id)
            room = max(0, self.settings.max_task_threads - (len(threads) - not_tasks))
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
        return stacks.stack_trace(inspection, thread_id, self.holding.held, self.settings.just_my_code,
                                  self.plain_threads)

    def exception_info(self):
        stop = self.holding.primary
        error = stop.exception if stop is not None else None
        if error is None:
            raise LookupError("the program is not stopped on an exception")
        text = stacks.exception_text(error, None if stop.from_traceback else stop.frame)
        kind = type(error)
        name = kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)
        return {"exceptionId": name, "description": safe_repr(str(error), 1000), "breakMode": stop.break_mode,
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
