"""Call stacks of held loops, tasks and threads, as DAP stack frames; the Task and Event loop
scopes; the full traceback of an exception stop.

A task's stack is its await chain, innermost first, each frame at the line where it resumes. The
stopped thread's stack is what the stop is about (the running code, the task about to step, the
callback about to run), then a label for the loop and its iteration, then the loop's own frames. A
thread that runs no loop shows its own frames, with a label when it is not held. Runs on a held
thread.
"""

import os
import traceback

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames as frame_tools
from . import registry
from .instrument import callback_name
from . import snapshot as snapshot_tools
from .stops import outcome, position
from .vocabulary import StopPlace


def stack_trace(inspection, thread_id, held, just_my_code, plain_threads):
    """[StackFrame] (protocol.json) of a DAP thread; held maps loop and thread ids to their Stops;
    plain_threads knows the threads that run no loop."""
    state = registry.state_for_thread(thread_id)
    if state is None:
        thread = plain_threads.by_id(thread_id)
        if thread is not None:
            return thread_stack(inspection, thread, held.get(thread.id), just_my_code)
        task = registry.task_by_id(thread_id)
        if task is not None and task.done():
            return [label(inspection, "Task %s %s" % (registry.task_name(task), outcome(task)))]
        raise LookupError("no event loop or task with thread id %d" % thread_id)
    stop = held.get(state.id)
    if stop is None:
        return [label(inspection, "%s is running (busy in a callback or on another thread)" % state.name)]
    subject = stop.subject_task()
    task = registry.task_by_id(thread_id) if thread_id != state.id else None
    if task is not None and task is not subject:
        if task.done():
            return [label(inspection, "Task %s %s" % (registry.task_name(task), outcome(task)))]
        return task_frames(inspection, task, state)
    frames = []
    if stop.where == StopPlace.CODE and stop.from_traceback:
        frames.extend(frame_entry(inspection, f, task=subject, state=state)
                      for f in traceback_frames(stop.exception.__traceback__, just_my_code))
    elif stop.where == StopPlace.CODE:
        frames.extend(frame_entry(inspection, f, task=subject, state=state)
                      for f in user_frames(stop.frame, just_my_code))
    elif stop.where == StopPlace.HANDLE:
        if subject is not None:
            frames.extend(task_frames(inspection, subject, state, with_label=False))
        else:
            frames.extend(callback_frames(inspection, stop.handle))
    where = "%s · %s" % (state.name, position(state.iteration, stop.where))
    if stop.where == StopPlace.CODE:
        frames.append(label(inspection, where))
        return frames
    # This runs on the held thread itself, so top is this call's own stack: a local that points at
    # it is a reference cycle, which would keep this stop's inspection and every frame it lists
    # (with their locals) alive until the next garbage collection.
    top = frame_tools.thread_top_frame(state.thread_ident)
    try:
        loop_frame = _run_forever_frame(top) if stop.where == StopPlace.ITERATION else None
        if loop_frame is not None:
            # Between iterations the program is where the loop is: its run_forever, with the Event
            # loop scope only (run_forever's own locals say nothing to a user).
            frames.append(frame_entry(inspection, loop_frame, name=where, state=state, loop_only=True))
        else:
            frames.append(label(inspection, where))
        frames.extend(frame_entry(inspection, f, state=state) for f in user_frames(top))
    finally:
        top = loop_frame = None
    return frames


def thread_stack(inspection, state, stop, just_my_code):
    """The frames of a thread that runs no loop: where it is held, else where it runs now."""
    if stop is not None and stop.from_traceback:
        return [frame_entry(inspection, f) for f in traceback_frames(stop.exception.__traceback__, just_my_code)]
    if stop is not None:
        return [frame_entry(inspection, f) for f in user_frames(stop.frame, just_my_code)]
    top = frame_tools.thread_top_frame(state.thread_ident)
    try:
        frames = [frame_entry(inspection, f) for f in user_frames(top, just_my_code)]
    finally:
        top = None
    frames.append(label(inspection, "%s is not held: it runs outside your code (in a library, or waiting in a "
                                    "sleep, a lock or I/O), and holds at its next line of your code" % state.name))
    return frames


_RUN_FOREVER = internals.ORIGINALS["run_forever"].__code__


def _run_forever_frame(top):
    frame = top
    while frame is not None and frame.f_code is not _RUN_FOREVER:
        frame = frame.f_back
    return frame


def user_frames(top, just_my_code=True):
    if top is None:
        return []
    frames = frame_tools.thread_frames(top)
    return [f for f in frames if frame_tools.is_user_file(f.f_code.co_filename)] if just_my_code else frames


def exception_text(error, raised_in=None):
    """The traceback of an exception as Python prints it, Loopscope's frames left out. raised_in:
    the frame of a stop where it was just raised, whose callers are not in the traceback yet."""
    summary = traceback.TracebackException(type(error), error, error.__traceback__)
    _drop_loopscope_frames(summary, set())
    if raised_in is not None:
        in_traceback = set()
        tb = error.__traceback__
        while tb is not None:
            in_traceback.add(id(tb.tb_frame))
            tb = tb.tb_next
        callers = [f for f in frame_tools.thread_frames(raised_in) if id(f) not in in_traceback]
        callers.reverse()
        above = traceback.StackSummary.extract((f, f.f_lineno) for f in callers)
        summary.stack = traceback.StackSummary.from_list(list(above) + list(summary.stack))
    return "".join(summary.format())


def _drop_loopscope_frames(summary, seen):
    while summary is not None and id(summary) not in seen:
        seen.add(id(summary))
        summary.stack = traceback.StackSummary.from_list(
            [entry for entry in summary.stack if not frame_tools.is_loopscope_file(entry.filename)])
        _drop_loopscope_frames(summary.__cause__, seen)
        summary = summary.__context__


def traceback_frames(tb, just_my_code=True):
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


def frame_entry(inspection, frame, name=None, task=None, state=None, loop_only=False):
    where = frame_tools.location(frame)
    return {"id": inspection.add_frame(frame, task, state, loop_only), "name": name or frame_tools.code_name(frame.f_code),
            "path": where["path"], "line": where["line"]}


def label(inspection, text, place=None):
    """A frame that only says something; with place, (filename, line), clicking it shows that line."""
    entry = {"id": inspection.add_frame(None), "name": text, "line": 0, "presentationHint": "label"}
    if place is not None:
        entry.update(path=frame_tools.absolute(place[0]), line=place[1])
    return entry


def task_frames(inspection, task, state, with_label=True):
    """A task's await chain, innermost first, each frame at the line where it resumes."""
    chain = frame_tools.await_chain(internals.task_coroutine(task))
    user = [(c, f) for c, f in chain if frame_tools.is_user_file(f.f_code.co_filename)] or chain[-1:]
    frames = [frame_entry(inspection, f, frame_tools.coroutine_name(c), task, state) for c, f in reversed(user)]
    if with_label:
        frames.append(label(inspection, "task %s on %s" % (registry.task_name(task), state.label)))
    frames.extend(provenance_frames(inspection, task))
    return frames


def provenance_frames(inspection, task):
    """Labels below a task's frames, each at its place in the source: what last woke it through
    a lock, event, semaphore or queue (ownership.py), then who created it, and who created that
    task, up the chain."""
    frames = []
    woken = registry.last_wake(task)
    if woken is not None:
        by = woken.by
        text = "woken by %s: %s%s" % (by.task_name, woken.what,
                                      " (iteration %d)" % by.iteration if by.iteration is not None else "")
        frames.append(label(inspection, text, by.place))
    place = registry.created_at(task)
    for creator in registry.creators(task):
        frames.append(label(inspection, "created by %s" % creator.name, place))
        place = creator.place
    return frames


def callback_frames(inspection, handle):
    callback = internals.handle_callback(handle)
    code = getattr(getattr(callback, "__func__", callback), "__code__", None)
    entry = label(inspection, "callback %s" % callback_name(callback))
    if code is not None:
        entry.update(path=os.path.abspath(code.co_filename), line=code.co_firstlineno, presentationHint="normal")
    return [entry]


# A thread's name in the Call Stack: longer task names are cut (the Asyncio Tasks view has them whole).
MAX_THREAD_NAME = 200


def task_thread_name(task):
    try:
        coroutine = frame_tools.coroutine_name(internals.task_coroutine(task))
    except Exception:  # a Task subclass that never ran Task.__init__: one odd task must not fail `threads`
        coroutine = "?"
    name = "%s · %s" % (registry.task_name(task), coroutine)
    return name if len(name) <= MAX_THREAD_NAME else name[:MAX_THREAD_NAME - 1] + "…"


# --- the synthetic scopes of Variables (inspection.StopInspection asks for them) --------------

def describe_task(task):
    """Rows of the Task scope."""
    rows = [("name", registry.task_name(task)), ("state", "pending" if not task.done() else outcome(task)),
            ("coroutine", frame_tools.coroutine_name(internals.task_coroutine(task)))]
    waiter = internals.task_waiter(task)
    if waiter is not None:
        # Said as the Asyncio Tasks view says it; the object itself below, to expand.
        rows.append(("awaiting", snapshot_tools.describe_wait(task)))
        rows.append(("awaited object", waiter))
    created = registry.created_at(task)
    if created is not None:
        rows.append(("created at", "%s:%d" % created))
    rows.append(("task", task))
    return rows


def _plural(n, noun):
    return "%d %s%s" % (n, noun, "" if n == 1 else "s")


def describe_loop(state, where=None):
    """Rows of the Event loop scope; where is the StopPlace the loop is held at, if it is."""
    loop = state.loop
    if loop is None:
        return [("state", "collected")]
    timers = [t for t in internals.scheduled_timers(loop) if not t.cancelled()]
    rows = [("time", "%.6f" % clock_tools.peek(loop)),
            ("iteration", position(state.iteration, where) if where else "%d started" % state.iteration),
            ("ready", _plural(len(internals.ready_queue(loop)), "handle")), ("timers", "%d scheduled" % len(timers))]
    if timers:
        rows.append(("next timer", "due in %.3f s" % (min(t.when() for t in timers) - clock_tools.peek(loop))))
    rows.append(("loop", loop))
    return rows
