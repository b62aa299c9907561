"""Hold, resume and step: the debugger's state machine, fed by the hooks in instrument.py.

A held loop blocks on its own thread inside a hook and serves inspection requests there (reprs and
evaluate run user code, so they must run where the program runs). Stops are all-stop: when one
loop stops, every other loop holds quietly at its next boundary until the user resumes.
"""

import _thread
import asyncio
import os
import queue
import signal
import sys
import threading
import time
import weakref

from . import clock as clock_tools
from . import frames as frame_tools
from . import instrument
from . import linetrace
from . import snapshot as snapshot_tools
from . import timelimit
from . import inspection as inspection_tools
from .inspection import StopInspection, safe_repr
from .output import flush_and_drain
from .switches import SwitchRecorder

_RESUME = object()
_sleep = time.sleep
# A real-time signal nobody else is likely to use; it interrupts busy code on the main thread.
PAUSE_SIGNAL = signal.NSIG - 2
BUSY_PAUSE_DELAY = 0.3
TASK_FILTERS = ("taskSwitch", "taskCreated", "taskDone", "taskException", "raised")
# Exceptions that are control flow, not errors: the 'raised' filter passes them by.
_FLOW_EXCEPTIONS = (StopIteration, StopAsyncIteration, GeneratorExit, asyncio.CancelledError, KeyboardInterrupt)


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
                self.hit_test = linetrace.hit_test(hit_condition)
            except ValueError as error:
                self.message = str(error)

    @property
    def verified(self):
        return self.message is None

    def matches(self, task, names):
        return self.name in names or _task_name(task) == self.name

    def hit(self):
        """Count a match; True if the hit count says to stop."""
        self.hits += 1
        return linetrace.passes(self.hit_test, self.hits)


class Stop:
    """One loop held at one place."""

    def __init__(self, state, where, handle=None, frame=None):
        self.state = state
        self.where = where
        self.handle = handle
        self.frame = frame
        self.exception = None   # the exception of an exception stop
        self.from_traceback = False  # its frames are gone: show them from the exception's traceback
        self.inbox = queue.SimpleQueue()


class Debugger:
    def __init__(self, send_event):
        self._send_event = send_event
        self._lock = threading.Lock()
        self.filters = set()
        self.breakpoints = []
        self._next_breakpoint_id = 1
        self.entry_pending = False
        self.pause_pending = False
        self.step = None           # (mode, loop id, run number at request)
        self.stopping = False      # a stop is shown; other loops hold quietly
        self.held = {}             # loop id -> Stop
        self.primary = None        # the Stop the user sees
        self.inspection = None
        self.main_ident = threading.main_thread().ident
        timelimit.start()  # the watchdog for reprs and evaluate, there from the start
        self._breakpoint_names = frozenset()
        self.max_task_threads = 256
        self.record_always = False  # record task switches while running freely too (costs per handle)
        self.switches = SwitchRecorder()
        self.clock_name = "wall"
        self.finished = snapshot_tools.FinishedTasks()
        self._seen_pending = weakref.WeakSet()
        self.line_breakpoints = linetrace.BreakpointTable()
        self.tracer = linetrace.make_tracer(self.line_breakpoints, self.on_line, self.on_raise)
        self.line_step = None      # (kind, frame, start line, start iteration, caller frame) while stepping lines
        self.just_my_code = True
        self._busy = threading.local()   # set on a thread while Loopscope itself runs user code there
        self._told_outside_loop = False
        if hasattr(os, "register_at_fork"):
            me = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: me() is not None and me()._in_forked_child())
        self._busy_pause_installed = False

    # --- configuration (channel thread) -------------------------------------------------------

    def set_function_breakpoints(self, specs):
        breakpoints = []
        for spec in specs:
            breakpoints.append(FunctionBreakpoint(self._next_breakpoint_id, spec["name"], spec.get("condition"),
                                                  spec.get("hitCondition")))
            self._next_breakpoint_id += 1
        with self._lock:
            self.breakpoints = [bp for bp in breakpoints if bp.verified and bp.name]
            self._update_watch()
        results = []
        for bp in breakpoints:
            result = {"id": bp.id, "verified": bp.verified and bool(bp.name)}
            if bp.message or not bp.name:
                result["message"] = bp.message or "a function breakpoint needs a task or coroutine name"
            results.append(result)
        return results

    def set_task_filters(self, filters):
        with self._lock:
            self.filters = set(filters)
            self.tracer.update(catching="raised" in self.filters)
            self._update_watch()

    def start(self, stop_on_entry, max_task_threads=256, clock="wall", just_my_code=True, task_switch_history="whileStepping"):
        self.max_task_threads = max_task_threads
        self.just_my_code = just_my_code
        clock_tools.install(clock, instrument._loop_states)
        instrument.watch.autojump = clock == "virtual"
        self.clock_name = clock
        inspection_tools.describe_task = describe_task
        inspection_tools.describe_loop = describe_loop
        with self._lock:
            self.entry_pending = bool(stop_on_entry)
            self.record_always = task_switch_history == "always"
            self._update_watch()

    def _in_forked_child(self):
        """A forked child runs on as plain Python: no events (the adapter debugs the parent), no hooks."""
        self._send_event = lambda event, body: None
        self.line_breakpoints.by_path.clear()
        self.tracer.update(stepping=False, catching=False)
        if instrument._listener is self:
            instrument.uninstall()

    def install_busy_pause(self):
        """On the main thread, before user code: a handler that stops busy code for pause."""
        if signal.getsignal(PAUSE_SIGNAL) in (signal.SIG_DFL, None):
            signal.signal(PAUSE_SIGNAL, self._on_pause_signal)
            self._busy_pause_installed = True

    def _update_watch(self):
        """Called with the lock held: switch the hooks on only where something needs them."""
        watch = instrument.watch
        mode = self.step[0] if self.step else None
        watch.iterations = bool(self.entry_pending or self.pause_pending or self.stopping
                                or mode in ("iteration", "out")
                                or (self.tracer.needs_thread_sync and self.tracer.active))
        every_handle = bool(self.pause_pending or self.stopping or mode == "handle"
                            or self.filters & {"taskSwitch", "taskDone", "taskException"} or self.record_always)
        self._breakpoint_names = frozenset(bp.name for bp in self.breakpoints)
        # Stepping by iteration is interactive, so its task switches are recorded: by the full hook
        # if function breakpoints need it anyway, else only logged, at a fifth of the cost a handle.
        stepping_iterations = mode in ("iteration", "out")
        every_handle = every_handle or (stepping_iterations and bool(self._breakpoint_names))
        # Function breakpoints alone: only the task steps whose task may match reach the listener
        # (and only those are recorded as task switches: running freely records nothing else).
        instrument.set_handle_watch(every_handle, self._breakpoint_names,
                                    self.switches.log if stepping_iterations else None)
        watch.after_handles = every_handle or bool(self._breakpoint_names)
        watch.creation = "taskCreated" in self.filters


    # --- moments (loop threads) ---------------------------------------------------------------

    def loop_registered(self, state):
        self._send_event("loopStarted", {"threadId": state.id, "name": state.name})

    def loop_closed(self, state):
        body = {"threadId": state.id}
        last = self.switches.last(state.id)
        if last is not None:
            body["lastHandle"] = last
        self._send_event("loopClosed", body)

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
        self.tracer.sync_thread()
        if self.stopping:
            return self._hold(state, None, "iteration")
        if self.entry_pending:
            self.entry_pending = False
            return self._hold(state, "entry", "iteration",
                              description="Paused before the first iteration of %s" % state.label)
        if self.pause_pending:
            return self._hold(state, "pause", "iteration")
        step = self.step
        if step is None:
            return
        mode, loop_id, run_number = step
        if (mode == "iteration" and loop_id == state.id) or (mode == "out" and state.run_number > run_number):
            self._hold(state, "step", "iteration")

    def before_handle(self, state, handle):
        self._stop_before_handle(state, handle)
        # Recorded after any hold, so that a stop here reports the handle before this one as the last.
        step = self.step
        self.switches.before(state, handle, detailed=step is None or step[0] not in ("iteration", "out"))

    def _stop_before_handle(self, state, handle):
        if self.stopping:
            return self._hold(state, None, "handle", handle)
        if self.pause_pending and getattr(handle._callback, "__self__", None) is not state.loop:
            return self._hold(state, "pause", "handle", handle)
        step = self.step
        if step is not None and step[0] == "handle" and step[1] == state.id:
            return self._hold(state, "step", "handle", handle)
        task = getattr(handle._callback, "__self__", None)
        if task is None or not instrument.is_task(task):
            return
        if "taskSwitch" in self.filters:
            return self._hold(state, "task switch", "handle", handle)
        if self._breakpoint_names and frame_tools.task_matches(task, self._breakpoint_names):
            hit = self._matching_breakpoints(task)
            if hit:
                return self._hold(state, "function breakpoint", "handle", handle, hit_ids=hit)

    def task_finished(self, task):
        """A task finished in a step that before_handle did not see (see instrument.set_handle_watch)."""
        self.finished.add(task)

    def after_handle(self, state, handle):
        self.switches.after(state)
        task = instrument.task_of_handle(handle)
        if task is not None and task.done():
            self.finished.add(task)
        if task is None or not task.done():
            return
        error = instrument.task_exception(task)
        if error is not None and "taskException" in self.filters:
            stop_frames = _traceback_frames(error.__traceback__)
            description = "Task %s raised %s: %s" % (_task_name(task), type(error).__name__, safe_repr(str(error), 200))
            return self._hold(state, "exception", "code", frame=stop_frames[0] if stop_frames else None,
                              description=description, exception=error, from_traceback=True)
        if "taskDone" in self.filters:
            description = "Task %s %s" % (_task_name(task), _outcome(task))
            self._hold(state, "task done", "code", frame=None, description=description)

    def task_created(self, state, task):
        if "taskCreated" not in self.filters:
            return
        created_at = None
        frame = frame_tools.thread_frames(sys._getframe(1))[0]  # the caller of loop.create_task
        for candidate in frame_tools.thread_frames(frame):
            if frame_tools.is_user_file(candidate.f_code.co_filename):
                created_at = frame_tools.location(candidate)
                break
        where = " at %s:%d" % (os.path.basename(created_at["path"]), created_at["line"]) if created_at else ""
        description = "Task %s (%s) created%s" % (_name_being_given(task, frame), frame_tools.coroutine_name(
            frame_tools.task_coroutine(task)), where)
        self._hold(state, "task created", "code", frame=frame, description=description)

    def _matching_breakpoints(self, task):
        names = frame_tools.chain_names(task)
        hit = []
        for bp in self.breakpoints:
            if not bp.matches(task, names):
                continue
            if bp.condition and not self._condition_holds(bp, task):
                continue
            if bp.hit():
                hit.append(bp.id)
        return hit

    def _condition_holds(self, bp, task):
        chain = frame_tools.await_chain(frame_tools.task_coroutine(task))
        frame = chain[-1][1] if chain else None
        for _coro, candidate in reversed(chain):
            if frame_tools.is_user_file(candidate.f_code.co_filename):
                frame = candidate
                break
        return self._condition_holds_or_warn("Breakpoint %r" % bp.name, bp.condition, frame, [("task", task)])

    def _condition_holds_or_warn(self, which, condition, frame, extra=()):
        """A breakpoint's condition in a frame; one that raises is reported and counts as true."""
        outcome = inspection_tools.condition_holds(condition, frame, extra)
        if isinstance(outcome, Exception):
            self._send_event("log", {"level": "warning", "message": "%s: condition %r raised %s: %s; stopping anyway."
                                     % (which, condition, type(outcome).__name__, outcome)})
            return True
        return outcome

    # --- holding ------------------------------------------------------------------------------

    def _hold(self, state, reason, where, handle=None, frame=None, description=None, hit_ids=None, exception=None,
              from_traceback=False):
        stop = Stop(state, where, handle, frame)
        stop.exception = exception
        stop.from_traceback = from_traceback
        with self._lock:
            quiet = self.stopping or reason is None
            if quiet and not self.stopping:
                return  # the stop this quiet hold belonged to is already over
            if not quiet:
                clock_tools.clock.pause()
                self.stopping = True
                self.pause_pending = False
                self.step = None
                if self.line_step is not None:
                    self.line_step = None
                    self.tracer.update(stepping=False)
                self.primary = stop
                self.inspection = StopInspection()
                self._update_watch()
            self.held[state.id] = stop
        if not quiet:
            self._wake_other_loops(state)
            body = self._stopped_body(stop, reason, description, hit_ids)
            flush_and_drain()
            self._send_event("stopped", body)
        self._serve_while_held(stop)

    def _serve_while_held(self, stop):
        self._busy.on = True  # user code run from here (reprs, evaluate) must not stop again
        try:
            self._serve(stop)
        finally:
            self._busy.on = False
        # Back to the program: trace this thread as the settings now say (a line step may start here).
        self.tracer.sync_thread(stop.frame if stop.where == "code" else None)

    def _serve(self, stop):
        while True:
            item = stop.inbox.get()
            if item is _RESUME:
                return
            work, done = item
            try:
                result = work()
            except BaseException as error:  # evaluate may raise anything, SystemExit included
                done(None, "%s: %s" % (type(error).__name__, error) if not isinstance(error, LookupError) else
                     str(error).strip("'\""))
            else:
                done(result, None)
            # Freed now, while the user reads it, not on the way out of the stop: a snapshot's
            # answer alone is some 20,000 objects, a millisecond on the next step's clock.
            item = work = done = result = None

    def _wake_other_loops(self, state):
        for other in instrument.loop_states():
            if other is not state:
                _wake(other.loop)

    def _stopped_body(self, stop, reason, description, hit_ids):
        state = stop.state
        loop = state.loop
        body = {"reason": reason, "threadId": self.stop_thread_id(stop), "loopId": state.id, "iteration": state.iteration,
                "time": _loop_time(loop), "where": stop.where}
        if stop.handle is not None:
            info = describe_handle(stop.handle, instrument.task_of_handle(stop.handle))
            body["handle"] = info
            if description is None:
                description = _handle_sentence(info)
        last = self.switches.last(state.id)
        if last is not None:
            body["lastHandle"] = last
        if description is None:
            if stop.where == "iteration":
                description = "Held before iteration %d of %s" % (state.iteration + 1, state.label)
            else:
                description = "Paused in running code on %s" % state.label
        if reason == "function breakpoint" and hit_ids:
            names = [bp.name for bp in self.breakpoints if bp.id in hit_ids]
            description += " (breakpoint %s)" % ", ".join(repr(n) for n in names)
            body["hitBreakpointIds"] = hit_ids
        body["description"] = description
        body["text"] = description
        return body

    # --- requests from the adapter (channel thread) --------------------------------------------

    def resume(self, mode, thread_id=None):
        with self._lock:
            if not self.stopping and not self.held:
                return
            if mode != "continue":
                state = self.state_for_thread(thread_id)
                stop = (self.held.get(state.id) if state is not None else None) or self.primary
                if stop is not None:
                    mode = self._start_step(mode, stop)
            self.stopping = False
            self.primary = None
            self.inspection = None
            clock_tools.clock.resume()
            held, self.held = self.held, {}
            self._update_watch()
        for stop in held.values():
            stop.inbox.put(_RESUME)

    def _start_step(self, mode, stop):
        """Turn over/into/out into what they mean at this kind of stop; with the lock held."""
        frame = stop.frame
        in_code = stop.where == "code" and frame is not None and frame_tools.is_user_file(frame.f_code.co_filename)
        if in_code and mode in ("over", "into", "out"):
            caller = _user_caller(frame)
            self.line_step = (mode, frame, frame.f_lineno, stop.state.iteration, caller)
            self.tracer.update(stepping=True)
            if mode == "out" and caller is None:
                # Out of a task's own coroutine: hold when the loop's iteration is over.
                self.step = ("iteration", stop.state.id, stop.state.run_number)
            return mode
        mode = {"over": "iteration", "into": "handle"}.get(mode, mode)
        if mode == "out" and stop.where == "handle":
            mode = "iteration"
        self.step = (mode, stop.state.id, stop.state.run_number)
        return mode

    # --- lines (whichever thread runs them) ----------------------------------------------------

    def set_line_breakpoints(self, path, specs):
        results = self.line_breakpoints.set(path, specs)
        with self._lock:
            self.tracer.update()
            self._update_watch()
        return results

    def on_line(self, frame):
        """A line event the tracer passed on: a line breakpoint, or a step that may end here."""
        if getattr(self._busy, "on", False) or self.stopping:
            return
        loop = asyncio._get_running_loop()
        state = instrument.state_of(loop) if loop is not None else None
        if state is None:
            if not self._told_outside_loop:
                self._told_outside_loop = True
                self._send_event("log", {"level": "info", "message": "Loopscope stops at line breakpoints only in "
                                         "code an event loop runs; %s:%d ran outside one." % (
                                             os.path.basename(frame.f_code.co_filename), frame.f_lineno)})
            return
        step = self.line_step
        if step is not None and self._step_ends_here(step, frame, state):
            self._hold(state, "step", "code", frame=frame,
                       description="Stepped to %s" % self._line_place(frame, state))
            return
        breakpoint = self.line_breakpoints.at(frame.f_code.co_filename, frame.f_lineno)
        if breakpoint is None:
            return
        self._busy.on = True
        try:
            if breakpoint.condition and not self._line_condition(breakpoint, frame):
                return
            breakpoint.hits += 1
            if not linetrace.passes(breakpoint.hit_test, breakpoint.hits):
                return
            if breakpoint.log_message:
                text = linetrace.interpolate(breakpoint.log_message, frame)
                flush_and_drain()
                self._send_event("logpoint", {"message": text, "path": breakpoint.path, "line": breakpoint.line})
                return
        finally:
            self._busy.on = False
        description = "Breakpoint at %s" % self._line_place(frame, state)
        if step is not None:
            description += " (while stepping elsewhere)"
        self._hold(state, "breakpoint", "code", frame=frame, description=description, hit_ids=[breakpoint.id])

    def on_raise(self, frame, error):
        """The 'raised' filter: an exception raised in user code that a loop runs."""
        if getattr(self._busy, "on", False) or self.stopping or isinstance(error, _FLOW_EXCEPTIONS):
            return
        loop = asyncio._get_running_loop()
        state = instrument.state_of(loop) if loop is not None else None
        if state is None:
            return
        description = "Raised %s: %s at %s" % (type(error).__name__, safe_repr(str(error), 200), self._line_place(frame, state))
        self._hold(state, "exception", "code", frame=frame, description=description, exception=error)

    @staticmethod
    def _step_ends_here(step, frame, state):
        kind, target, start_line, start_iteration, caller = step
        if kind == "into":
            return True
        if frame is caller and caller is not None:
            return True
        if kind == "over" and frame is target:
            return frame.f_lineno != start_line or state.iteration != start_iteration
        return False

    def _line_condition(self, breakpoint, frame):
        return self._condition_holds_or_warn(
            "Breakpoint at %s:%d" % (os.path.basename(breakpoint.path), breakpoint.line), breakpoint.condition, frame)

    @staticmethod
    def _line_place(frame, state):
        task = asyncio.current_task(state.loop)
        where = "%s:%d" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno)
        return "%s in task %s" % (where, _task_name(task)) if task is not None else where

    def exception_info(self):
        stop = self.primary
        error = getattr(stop, "exception", None) if stop is not None else None
        if error is None:
            raise LookupError("the program is not stopped on an exception")
        import traceback
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        kind = type(error)
        name = kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)
        return {"exceptionId": name, "description": safe_repr(str(error), 1000), "breakMode": "always",
                "details": {"message": safe_repr(str(error), 1000), "typeName": kind.__qualname__,
                            "fullTypeName": name, "stackTrace": text}}

    def pause(self):
        with self._lock:
            if self.stopping:
                return
            self.pause_pending = True
            self._update_watch()
        for state in instrument.loop_states():
            _wake(state.loop)
        if self._busy_pause_installed:
            _thread.start_new_thread(self._pause_busy_main_thread, ())

    def _pause_busy_main_thread(self):
        _sleep(BUSY_PAUSE_DELAY)
        if self.pause_pending and not self.stopping:
            try:
                signal.pthread_kill(self.main_ident, PAUSE_SIGNAL)
            except (OSError, ValueError):
                pass

    def _on_pause_signal(self, _signum, frame):
        if not self.pause_pending or self.stopping:
            return
        main_loops = [s for s in instrument.loop_states() if s.thread_ident == self.main_ident]
        if not main_loops:
            return  # no loop on this thread yet: the pause lands when one starts
        running = [s for s in main_loops if s.loop.is_running()] or main_loops
        self._hold(running[0], "pause", "code", frame=frame,
                   description="Paused in running code on %s" % running[0].label)

    def threads(self):
        """Each live loop, then its pending tasks (at most max_task_threads in all)."""
        threads, left_out = [], 0
        for state in instrument.loop_states():
            threads.append({"id": state.id, "name": state.name})
            loop = state.loop
            if loop is None or loop.is_closed():
                continue
            tasks = sorted(instrument.pending_tasks(loop), key=instrument.task_id)
            room = max(0, self.max_task_threads - (len(threads) - len(instrument.loop_states())))
            for task in tasks[:room]:
                threads.append({"id": instrument.task_id(task), "name": task_thread_name(task)})
            left_out += max(0, len(tasks) - room)
        return threads, left_out

    def state_for_thread(self, thread_id):
        """The loop behind a DAP thread id: a loop's own id, or a task's."""
        for state in instrument.loop_states():
            if state.id == thread_id:
                return state
        task = instrument.task_by_id(thread_id) if thread_id is not None else None
        if task is not None:
            return instrument.state_of(task.get_loop())
        return None

    def on_held_thread(self, work, done, thread_id=None):
        """Run work() on a held loop's thread; done(result, error) gets the answer."""
        with self._lock:
            state = self.state_for_thread(thread_id) if thread_id is not None else None
            stop = self.held.get(state.id) if state is not None else None
            stop = stop or self.primary
        if stop is None:
            done(None, "the program is running; pause it first")
            return
        stop.inbox.put((work, done))

    # --- inspection (held loop thread) ---------------------------------------------------------

    def stack_trace(self, thread_id):
        inspection = self.inspection
        if inspection is None:
            raise LookupError("the program is running; pause it first")
        state = self.state_for_thread(thread_id)
        if state is None:
            task = instrument.task_by_id(thread_id)
            if task is not None and task.done():
                return [_label(inspection, "Task %s %s" % (_task_name(task), _outcome(task)))]
            raise LookupError("no event loop or task with thread id %d" % thread_id)
        stop = self.held.get(state.id)
        if stop is None:
            return [_label(inspection, "%s is running (busy in a callback or on another thread)" % state.name)]
        task = instrument.task_by_id(thread_id) if thread_id != state.id else None
        if task is not None and task is not self._subject_task(stop):
            if task.done():
                return [_label(inspection, "Task %s %s" % (_task_name(task), _outcome(task)))]
            return _task_frames(inspection, task, state)
        frames = []
        if stop.where == "code" and stop.from_traceback:
            frames.extend(_frame_entry(inspection, f, task=self._subject_task(stop), state=state)
                          for f in _traceback_frames(stop.exception.__traceback__, self.just_my_code))
        elif stop.where == "code":
            frames.extend(_frame_entry(inspection, f, task=self._subject_task(stop), state=state)
                          for f in _user_frames(stop.frame, self.just_my_code))
        elif stop.where == "handle":
            subject = instrument.task_of_handle(stop.handle)
            if subject is not None:
                frames.extend(_task_frames(inspection, subject, state, with_label=False))
            else:
                frames.extend(_callback_frames(inspection, stop.handle))
        frames.append(_label(inspection, "%s · iteration %d" % (state.name, state.iteration)))
        if stop.where != "code":
            # This runs on the held thread itself, so top is this call's own stack: a local that
            # points at it is a reference cycle, which would keep this stop's inspection and every
            # frame it lists (with their locals) alive until the next garbage collection.
            top = frame_tools.thread_top_frame(state.thread_ident)
            try:
                frames.extend(_frame_entry(inspection, f, state=state) for f in _user_frames(top))
            finally:
                top = None
        return frames

    @staticmethod
    def _subject_task(stop):
        """The task a stop is about: the one about to step, or the one running the held code."""
        if stop.where == "handle":
            return instrument.task_of_handle(stop.handle)
        if stop.where == "code":
            loop = stop.state.loop
            return asyncio.current_task(loop) if loop is not None else None
        return None

    def stop_thread_id(self, stop):
        task = self._subject_task(stop)
        return instrument.task_id(task) if task is not None else stop.state.id

    def snapshot(self, loop_id=None, max_tasks=1000):
        """Runs on the primary held thread; loops that are not held report 'running'."""
        self._note_finished()
        loops = []
        for state in instrument.loop_states():
            if loop_id is not None and state.id != loop_id:
                continue
            stop = self.held.get(state.id)
            held_handle = stop.handle if stop is not None and stop.where == "handle" else None
            loops.append(snapshot_tools.snapshot_loop(state, stop is not None, self.finished, self.clock_name,
                                                      max_tasks, held_handle, self.switches))
            for task in instrument.pending_tasks(state.loop) if state.loop is not None and not state.loop.is_closed() else ():
                self._seen_pending.add(task)
        return {"loops": loops}

    def _note_finished(self):
        for task in list(self._seen_pending):
            if task.done():
                self._seen_pending.discard(task)
                self.finished.add(task)

    def advance_clock(self, seconds):
        if not self.stopping:
            raise LookupError("the loop clock can only be moved while the program is paused")
        clock_tools.clock.advance(seconds)
        return {"time": max((_loop_time(s.loop) for s in instrument.loop_states()), default=0.0)}

    def cancel_task(self, task_id):
        task = instrument.task_by_id(task_id)
        if task is None:
            raise LookupError("no task with id %d (it may have finished)" % task_id)
        if task.done():
            raise LookupError("task %s has already %s" % (_task_name(task), _outcome(task)))
        task.get_loop().call_soon_threadsafe(task.cancel)
        return {}


def describe_task(task):
    """Rows of the Task scope in Variables."""
    rows = [("name", _task_name(task)), ("state", _task_status(task)),
            ("coroutine", frame_tools.coroutine_name(frame_tools.task_coroutine(task)))]
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is not None:
        rows.append(("awaiting", waiter))
    created = instrument.created_at(task)
    if created is not None:
        rows.append(("created at", "%s:%d" % created))
    rows.append(("task", task))
    return rows


def describe_loop(state):
    """Rows of the Event loop scope in Variables."""
    loop = state.loop
    if loop is None:
        return [("state", "collected")]
    timers = [t for t in loop._scheduled if not t._cancelled]
    rows = [("time", "%.6f" % loop.time()), ("iteration", str(state.iteration)),
            ("ready", "%d handles" % len(loop._ready)), ("timers", "%d scheduled" % len(timers))]
    if timers:
        rows.append(("next timer", "due in %.3f s" % (min(t._when for t in timers) - loop.time())))
    rows.append(("loop", loop))
    return rows


def _task_status(task):
    if not task.done():
        return "pending"
    return _outcome(task)


def task_thread_name(task):
    return "%s · %s" % (_task_name(task), frame_tools.coroutine_name(frame_tools.task_coroutine(task)))


def _user_frames(top, just_my_code=True):
    if top is None:
        return []
    frames = frame_tools.thread_frames(top)
    return [f for f in frames if frame_tools.is_user_file(f.f_code.co_filename)] if just_my_code else frames


def _traceback_frames(tb, just_my_code=True):
    """The frames an exception passed through, innermost first (they keep their locals)."""
    frames = []
    while tb is not None:
        frame = tb.tb_frame
        if not frame_tools.is_loopscope_file(frame.f_code.co_filename) and (
                not just_my_code or frame_tools.is_user_file(frame.f_code.co_filename)):
            frames.append(frame)
        tb = tb.tb_next
    frames.reverse()
    return frames


def _user_caller(frame):
    """The nearest user frame that called (or awaits) this one, while it runs."""
    caller = frame.f_back
    while caller is not None and not frame_tools.is_user_file(caller.f_code.co_filename):
        caller = caller.f_back
    return caller


def _frame_entry(inspection, frame, name=None, task=None, state=None):
    where = frame_tools.location(frame)
    return {"id": inspection.add_frame(frame, task, state), "name": name or frame_tools.code_name(frame.f_code),
            "path": where["path"], "line": where["line"]}


def _label(inspection, text):
    return {"id": inspection.add_frame(None), "name": text, "line": 0, "presentationHint": "label"}


def _task_frames(inspection, task, state, with_label=True):
    """A task's await chain, innermost first, each frame at the line where it resumes."""
    chain = frame_tools.await_chain(frame_tools.task_coroutine(task))
    user = [(c, f) for c, f in chain if frame_tools.is_user_file(f.f_code.co_filename)] or chain[-1:]
    frames = [_frame_entry(inspection, f, frame_tools.coroutine_name(c), task, state) for c, f in reversed(user)]
    if with_label:
        frames.append(_label(inspection, "task %s on %s" % (_task_name(task), state.label)))
    return frames


def _callback_frames(inspection, handle):
    callback = handle._callback
    code = getattr(getattr(callback, "__func__", callback), "__code__", None)
    entry = _label(inspection, "callback %s" % instrument.callback_name(callback))
    if code is not None:
        entry.update(path=os.path.abspath(code.co_filename), line=code.co_firstlineno, presentationHint="normal")
    return [entry]


def _wake(loop):
    """Make a loop blocked in select() return at once (what call_soon_threadsafe does)."""
    if loop is None or loop.is_closed():
        return
    write_to_self = getattr(loop, "_write_to_self", None)
    if write_to_self is not None:
        try:
            write_to_self()
        except Exception:
            pass


def _loop_time(loop):
    try:
        return float(loop.time()) if loop is not None else 0.0
    except Exception:
        return 0.0


def _task_name(task):
    get_name = getattr(task, "get_name", None)
    return get_name() if get_name is not None else "Task-%d" % instrument.task_id(task)


def _name_being_given(task, frame):
    """asyncio.create_task(coro, name=...) names the task only after loop.create_task returns."""
    if frame.f_code.co_name == "create_task" and frame.f_code.co_filename == asyncio.tasks.__file__:
        name = frame.f_locals.get("name")
        if name is not None:
            return str(name)
    return _task_name(task)


def _outcome(task):
    if task.cancelled():
        return "was cancelled"
    error = instrument.task_exception(task)
    if error is not None:
        return "failed: %s" % safe_repr(error, 200)
    return "finished: returned %s" % safe_repr(instrument.task_result(task), 200)


def describe_handle(handle, task):
    """HandleInfo (protocol.json) for a ready handle about to run (what ran last comes from the
    task-switch record: see SwitchRecorder.last)."""
    callback = handle._callback
    info = {"callback": instrument.callback_name(callback) if callback is not None else "(finished handle)"}
    if task is not None:
        info["taskId"] = instrument.task_id(task)
        info["taskName"] = _task_name(task)
        info["coroutine"] = frame_tools.coroutine_name(frame_tools.task_coroutine(task))
        where = frame_tools.resume_location(task)
        if where is not None:
            info["resumeAt"] = where
        if not frame_tools.has_started(task):
            info["firstStep"] = True
    return info


def _handle_sentence(info):
    if "taskName" in info:
        where = info.get("resumeAt")
        at = " at %s:%d" % (os.path.basename(where["path"]), where["line"]) if where else ""
        return "Task %s %s%s" % (info["taskName"], "starts" if info.get("firstStep") else "resumes", at)
    return "Callback %s is about to run" % info["callback"]
