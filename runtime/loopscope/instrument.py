"""The hooks on asyncio: the moments at which Loopscope can see and hold an event loop.

Hooking BaseEventLoop itself (not a subclass, not the policy) reaches every loop CPython makes,
however it is made. The per-iteration hook is always on and costs one dict lookup and one
flag test; the per-handle and task-creation hooks are swapped in only while someone watches.
A hook that raises is switched off and reported, never allowed to break the user's loop.
"""

import asyncio
import collections
import itertools
import sys
import threading
import time
import weakref
from asyncio import base_events, events

from . import clock as clock_tools
from . import frames
from .taskmarks import TaskMarks

_original_run_once = base_events.BaseEventLoop._run_once
_original_run_forever = base_events.BaseEventLoop.run_forever
_original_close = base_events.BaseEventLoop.close
_original_create_task = base_events.BaseEventLoop.create_task
_original_handle_run = events.Handle._run
_original_set_running_loop = events._set_running_loop

_TASK_TYPES = tuple(t for t in (getattr(asyncio.tasks, "_CTask", None), getattr(asyncio.tasks, "_PyTask", None),
                                asyncio.Task) if t is not None)


class Watch:
    """What the hot paths look at. One object so that one attribute test decides the fast path."""
    iterations = False     # call listener.before_iteration at every boundary
    handles = False        # call listener.before_handle before every handle
    after_handles = False  # ... and listener.after_handle after it
    creation = False       # call listener.task_created for every task
    autojump = False       # virtual clock: skip idle waits for timers
    task_step_names = frozenset()  # handles off: only task steps whose task matches these reach the listener
    switch_log = None      # handles off: a deque each handle is appended to, raw (see _handle_run_logged)


watch = Watch()
_task_marks = TaskMarks()
# With function breakpoints on 3.12+, the ids of the tasks whose chain may match (taskmarks), else
# None; and watch.task_step_names again, as a module global for _handle_run_task_steps.
_marks, _step_names = None, frozenset()
_listener = None
_loop_states = {}            # id(loop) -> LoopState
# Loops and tasks share one id space: both are DAP threads.
_ids = itertools.count(1)
_run_numbers = itertools.count(1)
# task or future -> (id, (filename, line) of the user code that made it, or None). Tasks get their
# entry when created, so ids follow creation order; futures and tasks made without create_task on
# first sight.
_info = weakref.WeakKeyDictionary()


class LoopState:
    """What Loopscope knows of one event loop. Its id is the loop's DAP thread id."""

    __slots__ = ("id", "loop_ref", "thread_ident", "thread_name", "iteration", "run_number", "clock_skew",
                 "current_handle", "log_stamp", "__weakref__")

    def __init__(self, loop):
        self.id = next(_ids)
        self.loop_ref = weakref.ref(loop)
        thread = threading.current_thread()
        self.thread_ident = thread.ident
        self.thread_name = thread.name
        self.iteration = 0
        self.run_number = 0
        self.clock_skew = 0.0   # seconds the virtual clock jumped ahead on this loop
        self.current_handle = None
        self.log_stamp = (-1, 0.0)  # see _handle_run_logged

    @property
    def loop(self):
        return self.loop_ref()

    @property
    def name(self):
        return "Event loop %d (%s)" % (self.id, self.thread_name)


    @property
    def label(self):
        """The name as it reads inside a sentence."""
        return "event loop %d (%s)" % (self.id, self.thread_name)


def task_id(task):
    """A small stable id for a task (its DAP thread id) or a future."""
    try:
        return _info[task][0]
    except KeyError:
        info = _info[task] = (next(_ids), None)
        return info[0]
    except TypeError:
        return 0


def task_exception(task):
    """A finished task's exception, read without marking it retrieved: calling task.exception()
    would silence asyncio's "Task exception was never retrieved" for the program."""
    if task.cancelled():
        return None
    return getattr(task, "_exception", None)


def task_result(task):
    """A finished task's result, read without side effects."""
    return getattr(task, "_result", None)


def how_task_ended(task):
    """'cancelled', 'failed' or 'done', for a task that is done; read without side effects."""
    if task.cancelled():
        return "cancelled"
    return "failed" if task_exception(task) is not None else "done"


def pending_tasks(loop):
    """asyncio.all_tasks(loop), from any thread: copying the task set fails while another thread
    adds to it ("set changed size"), so it is retried, as asyncio itself does."""
    for _attempt in range(100):
        try:
            return asyncio.all_tasks(loop)
        except RuntimeError:
            continue
    return set()


def live_tasks():
    """The pending tasks of every loop Loopscope knows (a scan, for rare requests)."""
    return [task for state in loop_states() for task in pending_tasks(state.loop)]


def task_by_id(ident, tasks_only=True):
    """The live task (or, with tasks_only=False, future) with this id; a scan, for rare requests."""
    for obj, info in list(_info.items()):
        if info[0] == ident:
            return obj if not tasks_only or is_task(obj) else None
    return None


def created_at(task):
    info = _info.get(task)
    return info[1] if info is not None else None


def is_task(obj):
    return isinstance(obj, _TASK_TYPES)


def task_of_handle(handle):
    """The Task a ready handle steps or wakes, or None for a plain callback."""
    owner = getattr(handle._callback, "__self__", None)
    return owner if is_task(owner) else None


_TASK_CALLBACK_LABELS = {}  # type of the C Task's step or wakeup wrapper -> its label


def task_callback_label(callback):
    """'Task step' or 'Task wakeup' for a task's callback; known by type for the C Task's wrappers,
    which have no __name__ (a failed attribute lookup costs more than the rest of a hot path)."""
    label = _TASK_CALLBACK_LABELS.get(type(callback))
    if label is None:
        name = getattr(callback, "__name__", None)
        label = "Task wakeup" if "wakeup" in (name or type(callback).__name__).lower() else "Task step"
        if name is None:
            _TASK_CALLBACK_LABELS[type(callback)] = label
    return label


def callback_name(callback):
    """A readable name for a handle's callback: 'Task step', 'Future.set_result', 'on_timer'."""
    owner = getattr(callback, "__self__", None)
    if is_task(owner):
        return task_callback_label(callback)
    name = getattr(getattr(callback, "__func__", None) or callback, "__qualname__", None)
    if isinstance(name, str):
        return name
    return getattr(callback, "__name__", None) or type(callback).__name__


def loop_states():
    return [state for state in list(_loop_states.values()) if state.loop is not None]


def state_of(loop):
    state = _loop_states.get(id(loop))
    if state is not None and state.loop_ref() is loop:
        return state
    return None


def _register(loop):
    state = LoopState(loop)
    key = id(loop)
    _loop_states[key] = state

    def forget(_ref, key=key, state=state):
        if _loop_states.get(key) is state:
            del _loop_states[key]
            _notify("loop_closed", state)

    state.loop_ref = weakref.ref(loop, forget)
    _notify("loop_registered", state)
    return state


def _notify(moment, *args):
    listener = _listener
    if listener is None:
        return
    try:
        getattr(listener, moment)(*args)
    except Exception as error:  # a Loopscope bug must not become the user's bug
        _disable("%s hook failed: %r" % (moment, error))


def _disable(reason):
    global _listener
    listener, _listener = _listener, None
    watch.iterations = watch.after_handles = watch.creation = False
    set_handle_watch(False)
    if listener is not None:
        try:
            listener.hooks_disabled(reason)
        except Exception:
            pass


# --- the hooks -------------------------------------------------------------------------------

def _run_once(self):
    state = _loop_states.get(id(self))
    if state is None or state.loop_ref() is not self:
        state = _register(self)
    if watch.iterations:
        _notify("before_iteration", state)
    if watch.autojump:
        clock_tools.autojump(self, state)
    state.iteration += 1
    _original_run_once(self)


def _run_forever(self):
    state = state_of(self) or _register(self)
    state.run_number = next(_run_numbers)
    return _original_run_forever(self)


def _close(self):
    state = state_of(self)
    result = _original_close(self)
    if state is not None and _loop_states.get(id(self)) is state:
        del _loop_states[id(self)]
        _notify("loop_closed", state)
    return result


def _create_task(self, *args, **kwargs):
    state = _loop_states.get(id(self))
    if state is None or state.loop_ref() is not self:
        state = _register(self)  # before the task, so a loop's id comes before its tasks' ids
    task = _original_create_task(self, *args, **kwargs)
    frame = sys._getframe(1)
    while frame is not None and not frames.is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    try:
        _info[task] = (next(_ids), (frame.f_code.co_filename, frame.f_lineno) if frame is not None else None)
    except TypeError:
        pass
    # Its own coroutine matches? (A task factory may return something else than a Task; an eager
    # task may have finished already.)
    if _marks is not None and isinstance(task, _TASK_TYPES) and not task.done() \
            and frames.task_matches(task, _task_marks.names):
        _marks.add(id(task))
    if watch.creation:
        _notify("task_created", state, task)
    return task


def _handle_run(self):
    # The hot path while anything watches handles: no allocation, no lookup by name.
    listener = _listener
    state = _loop_states.get(id(self._loop))
    if state is None or listener is None:
        _original_handle_run(self)
        self = None  # see the end of this function
        return
    try:
        listener.before_handle(state, self)
    except Exception as error:
        _disable("before_handle hook failed: %r" % (error,))
    state.current_handle = self
    try:
        _original_handle_run(self)
    finally:
        state.current_handle = None
        if watch.after_handles:
            try:
                listener.after_handle(state, self)
            except Exception as error:
                _disable("after_handle hook failed: %r" % (error,))
        # As asyncio's own Handle._run does: a traceback that keeps this frame must not keep the
        # handle, and through it the task, alive (its "never retrieved" report would come late).
        self = None


def _handle_run_task_steps(self):
    """The per-handle hook while only function breakpoints watch: a plain callback costs an
    attribute lookup and a type test; a task step also the task name's lookup and, before 3.12 or
    for a task taskmarks marked, the match of its await chain. Only a task that may match reaches
    the listener, and one that finished (for the views)."""
    task = getattr(self._callback, "__self__", None)
    if not isinstance(task, _TASK_TYPES):
        _original_handle_run(self)
        self = None  # as in _handle_run
        return
    marks = _marks  # module globals: cheaper than watch's attributes on this path
    if marks is None or id(task) in marks or task.get_name() in _step_names:
        if frames.task_matches(task, _step_names):
            _handle_run(self)
            self = task = None
            return
        if marks is not None:
            marks.discard(id(task))  # before the step, which may mark it again
    _original_handle_run(self)
    if task.done():  # the views list recently finished tasks
        if marks is not None:
            marks.discard(id(task))
        _notify("task_finished", task)
    self = task = None  # as in _handle_run


_perf_counter = time.perf_counter
_weakref = weakref.ref


def _handle_run_logged(self):
    """The per-handle hook while the user steps whole iterations and nothing else watches handles:
    each handle is timed and appended to watch.switch_log as a raw tuple, which the Task Switches
    history reads only when asked (about 1 µs a handle, where the full hook costs about 5 µs).
    Tasks are held by weak reference; a task that just finished is described at once, as
    (id, name, coroutine name, how it ended)."""
    log = watch.switch_log
    state = _loop_states.get(id(self._loop))
    if log is None or state is None:
        _original_handle_run(self)
        self = None  # as in _handle_run
        return
    stamp = state.log_stamp  # (iteration, loop time at its first handle)
    if stamp[0] != state.iteration:
        stamp = state.log_stamp = (state.iteration, state.loop_ref().time())
    callback = self._callback
    task = getattr(callback, "__self__", None)
    if isinstance(task, _TASK_TYPES):
        subject, kind = _weakref(task), _TASK_CALLBACK_LABELS.get(type(callback)) or task_callback_label(callback)
    else:
        subject, kind, task = None, callback_name(callback), None
    callback = None
    started = _perf_counter()
    _original_handle_run(self)
    ended = _perf_counter()
    if task is not None and task.done():  # described now: the log must not keep it alive
        subject = (task_id(task), task.get_name(), frames.coroutine_name(frames.task_coroutine(task)),
                   how_task_ended(task))
        _notify("task_finished", task)
    log.append((state.id, stamp[0], stamp[1], subject, kind, started, ended))
    self = task = subject = None  # as in _handle_run


def set_handle_watch(on, task_step_names=frozenset(), switch_log=None):
    """Swap the per-handle hook in or out; Handle._run is looked up per call, so this is instant.

    on: every handle reaches the listener. Else, given task_step_names (function breakpoints):
    only the task steps whose task matches one of them. Else, given switch_log (a deque): every
    handle is only logged there. Else none."""
    watch.handles = bool(on)
    # Marks are kept while any function breakpoint exists, whichever hook runs, so that they are
    # right when the program runs freely again.
    global _marks, _step_names
    _marks = _task_marks.follow(task_step_names, live_tasks)
    watch.task_step_names = _step_names = frozenset() if on else frozenset(task_step_names)
    watch.switch_log = switch_log if not (on or task_step_names) else None
    if on:
        events.Handle._run = _handle_run
    elif task_step_names:
        events.Handle._run = _handle_run_task_steps
    elif switch_log is not None:
        events.Handle._run = _handle_run_logged
    else:
        events.Handle._run = _original_handle_run


_foreign_loop_types = set()


def _set_running_loop(loop):
    """Every loop that starts running passes here, asyncio's own and others (uvloop's is not a
    BaseEventLoop, so none of the hooks above see it): the listener hears of each foreign kind once."""
    if loop is not None and not isinstance(loop, base_events.BaseEventLoop) and type(loop) not in _foreign_loop_types:
        _foreign_loop_types.add(type(loop))
        _notify("foreign_loop", loop)
    return _original_set_running_loop(loop)


def install(listener):
    """Hook asyncio for this process; listener receives the moments (see control.Debugger)."""
    global _listener
    _listener = listener
    base_events.BaseEventLoop._run_once = _run_once
    base_events.BaseEventLoop.run_forever = _run_forever
    base_events.BaseEventLoop.close = _close
    base_events.BaseEventLoop.create_task = _create_task
    # asyncio re-exports it, and uvloop takes its copy from there when the program imports it.
    events._set_running_loop = asyncio._set_running_loop = _set_running_loop


def uninstall():
    global _listener
    _listener = None
    watch.iterations = watch.after_handles = watch.creation = watch.autojump = False
    set_handle_watch(False)
    clock_tools.uninstall()
    base_events.BaseEventLoop._run_once = _original_run_once
    base_events.BaseEventLoop.run_forever = _original_run_forever
    base_events.BaseEventLoop.close = _original_close
    base_events.BaseEventLoop.create_task = _original_create_task
    events._set_running_loop = asyncio._set_running_loop = _original_set_running_loop
    _loop_states.clear()


def hook_code_objects():
    """Code objects of the hooks, so stack walks can leave Loopscope's frames out."""
    return {f.__code__ for f in (_run_once, _run_forever, _close, _create_task, _handle_run, _handle_run_task_steps,
                                 _handle_run_logged, _notify, _set_running_loop)}


if sys.version_info < (3, 8):  # pragma: no cover - __main__ refuses older Pythons before importing us
    raise ImportError("Loopscope needs Python 3.8 or newer")
