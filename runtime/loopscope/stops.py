"""Stops: one loop, or one thread that runs no loop, held at one place, why, and what the user
reads about it.

Each stop reason of the vocabulary (protocol.json StopReason) has one factory below, which builds
its Stop with the sentence (description) and the few words the client shows beside the thread
(label). A quiet stop, with no reason, is a loop or thread held only because another one stopped
(all-stop); nobody is told of it. event_body() is the stopped event's body (protocol.json).
"""

import _thread
import asyncio
import os
import queue

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames as frame_tools
from . import registry
from .inspection import safe_repr
from .instrument import callback_name
from .vocabulary import StopPlace, StopReason


class Stop:
    """One loop held at one place: between iterations, before a handle, or in running code."""

    __slots__ = ("state", "where", "reason", "handle", "frame", "exception", "from_traceback", "description",
                 "detail", "label", "hit_ids", "task", "inbox", "break_mode", "thread_ident", "interrupt")

    def __init__(self, state, where, reason=None, handle=None, frame=None, description=None, exception=None,
                 from_traceback=False, hit_ids=None):
        self.state = state                # the held loop's registry.LoopState, or a plainthreads.ThreadState
        self.where = where                # a StopPlace
        self.reason = reason              # a StopReason; None for a quiet stop
        self.handle = handle              # the handle about to run (StopPlace.HANDLE)
        self.frame = frame                # the running frame (StopPlace.CODE)
        self.description = description    # None: said from the handle, or from where the loop is
        self.detail = None                # said after the description: " (breakpoint 'x')"
        self.label = None                 # None: the label of its reason and place (label())
        self.exception = exception        # the exception of an exception stop
        self.from_traceback = from_traceback  # its frames are gone: show them from the traceback
        self.hit_ids = hit_ids            # breakpoints that caused it
        self.task = None                  # the task a task done or task exception stop is about
        self.inbox = queue.SimpleQueue()  # work for the held thread (holding.py)
        self.break_mode = "always"        # exceptionInfo's: 'unhandled' for an exception nothing caught
        self.thread_ident = _thread.get_ident()  # stops are made on the thread they hold
        self.interrupt = False            # Stop ended the session while held here: Ctrl+C lands here

    @property
    def quiet(self):
        return self.reason is None

    def subject_task(self):
        """The task the stop is about: the one about to step, or the one running the held code."""
        if self.task is not None:
            return self.task
        if self.where == StopPlace.HANDLE:
            return registry.task_of_handle(self.handle)
        if self.where == StopPlace.CODE:
            loop = self.state.loop
            return internals.current_task(loop) if loop is not None else None
        return None

    def thread_id(self):
        """The DAP thread the stop is shown on: its task's, else its loop's."""
        task = self.subject_task()
        return registry.task_id(task) if task is not None else self.state.id


# --- one factory per reason -------------------------------------------------------------------

def quiet(state, where, handle=None, frame=None):
    """Held because another loop or thread stopped: all-stop."""
    return Stop(state, where, handle=handle, frame=frame)


def entry(state):
    return Stop(state, StopPlace.ITERATION, StopReason.ENTRY,
                description="Paused before the first iteration of %s" % state.label)


def pause(state, where, handle=None, frame=None, attached=False):
    """The user paused; or, attached, the stop that attaching makes wherever the loops were."""
    description = None
    if where == StopPlace.CODE:
        description = "Paused in running code on %s" % state.label if state.is_loop else \
            "Paused at %s" % line_place(frame, state)
    stop = Stop(state, where, StopReason.PAUSE, handle=handle, frame=frame, description=description)
    if attached:
        stop.label = "attached"
        stop.detail = " (Loopscope attached here)"
    return stop


def step(state, where, handle=None):
    """A loop step ended: at an iteration boundary or before a handle."""
    return Stop(state, where, StopReason.STEP, handle=handle)


def line_step(state, frame):
    return Stop(state, StopPlace.CODE, StopReason.STEP, frame=frame,
                description="Stepped to %s" % line_place(frame, state))


def line_breakpoint(state, frame, breakpoint, while_stepping):
    description = "Breakpoint at %s" % line_place(frame, state)
    if while_stepping:
        description += " (while stepping elsewhere)"
    return Stop(state, StopPlace.CODE, StopReason.BREAKPOINT, frame=frame, description=description,
                hit_ids=[breakpoint.id])


def function_breakpoint(state, handle, hit_ids, names):
    stop = Stop(state, StopPlace.HANDLE, StopReason.FUNCTION_BREAKPOINT, handle=handle, hit_ids=hit_ids)
    stop.detail = " (breakpoint %s)" % ", ".join(repr(n) for n in names)
    return stop


def function_entry(state, frame, hit_ids, names):
    """A function a function breakpoint names starts: held at its first line."""
    name = frame_tools.code_name(frame.f_code)
    stop = Stop(state, StopPlace.CODE, StopReason.FUNCTION_BREAKPOINT, frame=frame, hit_ids=hit_ids,
                description="%s starts at %s" % (name, line_place(frame, state)))
    stop.detail = " (breakpoint %s)" % ", ".join(repr(n) for n in names)
    stop.label = "breakpoint on %s" % name
    return stop


def deadlock(state, found):
    """The loop would wait for ever with tasks waiting (the Deadlock filter): held before the
    iteration whose select() would never return."""
    return Stop(state, StopPlace.ITERATION, StopReason.DEADLOCK, description="Deadlock: %s" % found["description"])


def arrived(state, live=False):
    """A replay reached the iteration it was asked to stop at (going back in time)."""
    description = "Back %s of %s: replayed from the start of the recording" % (
        position(state.iteration, StopPlace.ITERATION), state.label)
    if live:
        description += ", which ends here (from here on the program runs live)"
    return Stop(state, StopPlace.ITERATION, StopReason.STEP, description=description)


def divergence(state, text):
    """A replay that no longer matches its recording, held at the boundary where that was seen."""
    return Stop(state, StopPlace.ITERATION, StopReason.DIVERGENCE, description=text)


def task_switch(state, handle):
    return Stop(state, StopPlace.HANDLE, StopReason.TASK_SWITCH, handle=handle)


def task_created(state, frame, task):
    created_at = None
    for candidate in frame_tools.thread_frames(frame):
        if frame_tools.is_user_file(candidate.f_code.co_filename):
            created_at = frame_tools.location(candidate)
            break
    where = " at %s:%d" % (os.path.basename(created_at["path"]), created_at["line"]) if created_at else ""
    description = "Task %s (%s) created%s" % (_name_being_given(task, frame), frame_tools.coroutine_name(
        internals.task_coroutine(task)), where)
    return Stop(state, StopPlace.CODE, StopReason.TASK_CREATED, frame=frame, description=description)


def task_done(state, task):
    stop = Stop(state, StopPlace.CODE, StopReason.TASK_DONE,
                description="Task %s %s" % (registry.task_name(task), outcome(task)))
    stop.task = task
    return stop


def task_exception(state, task, error, frame):
    description = "Task %s raised %s: %s" % (registry.task_name(task), type(error).__name__, safe_repr(str(error), 200))
    stop = Stop(state, StopPlace.CODE, StopReason.EXCEPTION, frame=frame, description=description, exception=error,
                from_traceback=True)
    stop.task = task
    return stop


def loop_blocked(state, description, frame=None, where=StopPlace.CODE, handle=None):
    """Inside the step that holds the loop (frame), or, where it could not be reached, at the loop's
    next handle or boundary after it."""
    return Stop(state, where, StopReason.LOOP_BLOCKED, handle=handle, frame=frame, description=description)


def raised(state, frame, error):
    description = "Raised %s: %s at %s" % (type(error).__name__, safe_repr(str(error), 200), line_place(frame, state))
    return Stop(state, StopPlace.CODE, StopReason.EXCEPTION, frame=frame, description=description, exception=error)


def uncaught(state, frame, error, consequence):
    """An exception nothing caught; frame is the innermost frame of its traceback shown (may be
    None), consequence what it does next: 'it ends thread worker'."""
    where = " at %s:%d" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno) if frame is not None else ""
    description = "Uncaught %s: %s%s; %s" % (type(error).__name__, safe_repr(str(error), 200), where, consequence)
    stop = Stop(state, StopPlace.CODE, StopReason.EXCEPTION, frame=frame, description=description, exception=error,
                from_traceback=True)
    stop.break_mode = "unhandled"
    stop.label = "uncaught exception"
    return stop


# --- what the stopped event says --------------------------------------------------------------

def event_body(stop, last_handle):
    """The stopped event's body (protocol.json); last_handle is the HandleInfo of what ran last."""
    state = stop.state
    body = {"reason": stop.reason, "threadId": stop.thread_id(), "where": stop.where}
    if state.is_loop:
        body.update(loopId=state.id, iteration=state.iteration, time=_loop_time(state.loop))
    description = stop.description
    if stop.handle is not None:
        body["handle"] = describe_handle(stop.handle)
        if description is None:
            description = handle_sentence(body["handle"])
    if last_handle is not None:
        body["lastHandle"] = last_handle
    if description is None:
        if stop.where == StopPlace.ITERATION:
            description = "Held %s of %s" % (position(state.iteration, stop.where), state.label)
        else:
            description = "Paused in running code on %s" % state.label
    if stop.hit_ids and stop.reason == StopReason.FUNCTION_BREAKPOINT:
        body["hitBreakpointIds"] = stop.hit_ids
    if stop.detail:
        description += stop.detail
    body["description"] = description
    body["text"] = description
    body["label"] = stop.label or label(stop.reason, stop.where, state.iteration, body.get("handle"))
    return body


def label(reason, where, iteration, handle_info):
    """The few words beside the stopped thread: 'entry', 'before iteration 4', 'breakpoint on consumer-2'."""
    if reason == StopReason.FUNCTION_BREAKPOINT:
        return "breakpoint on %s" % ((handle_info or {}).get("taskName") or "task")
    if reason == StopReason.STEP:
        return position(iteration, where) if where == StopPlace.ITERATION else "step"
    return reason


def position(iteration, where):
    """Where a held loop is in its iterations, said one way everywhere: between iterations it is
    'before iteration N+1' (N have run); anywhere else 'in iteration N'."""
    return "before iteration %d" % (iteration + 1) if where == StopPlace.ITERATION else "in iteration %d" % iteration


def describe_handle(handle):
    """HandleInfo (protocol.json) for a ready handle about to run (what ran last comes from the
    task-switch record: see SwitchRecorder.last)."""
    callback = internals.handle_callback(handle)
    task = registry.task_of_handle(handle)
    info = {"callback": callback_name(callback) if callback is not None else "(finished handle)"}
    if task is not None:
        info["taskId"] = registry.task_id(task)
        info["taskName"] = registry.task_name(task)
        info["coroutine"] = frame_tools.coroutine_name(internals.task_coroutine(task))
        where = frame_tools.resume_location(task)
        if where is not None:
            info["resumeAt"] = where
        if not frame_tools.has_started(task):
            info["firstStep"] = True
    return info


def handle_sentence(info):
    if "taskName" in info:
        where = info.get("resumeAt")
        at = " at %s:%d" % (os.path.basename(where["path"]), where["line"]) if where else ""
        return "Task %s %s%s" % (info["taskName"], "starts" if info.get("firstStep") else "resumes", at)
    return "Callback %s is about to run" % info["callback"]


def line_place(frame, state):
    """'app.py:12 in task consumer-2', 'app.py:12 on thread worker', or 'app.py:12' in a callback."""
    where = "%s:%d" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno)
    if not state.is_loop:
        return "%s on %s" % (where, state.label)
    task = internals.current_task(state.loop) if state.loop is not None else None
    return "%s in task %s" % (where, registry.task_name(task)) if task is not None else where


def outcome(task):
    """'was cancelled', 'failed: ...', 'finished: returned ...'."""
    if task.cancelled():
        return "was cancelled"
    error = internals.future_exception(task)
    if error is not None:
        return "failed: %s" % safe_repr(error, 200)
    return "finished: returned %s" % safe_repr(internals.future_result(task), 200)


def _name_being_given(task, frame):
    """asyncio.create_task(coro, name=...) names the task only after loop.create_task returns."""
    if frame.f_code.co_name == "create_task" and frame.f_code.co_filename == asyncio.tasks.__file__:
        name = frame.f_locals.get("name")
        if name is not None:
            return str(name)
    return registry.task_name(task)


def _loop_time(loop):
    try:
        return float(clock_tools.peek(loop)) if loop is not None else 0.0
    except Exception:
        return 0.0
