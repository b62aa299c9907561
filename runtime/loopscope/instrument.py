"""The hooks on asyncio: the moments at which Loopscope can see and hold an event loop.

Hooking BaseEventLoop itself (not a subclass, not the policy) reaches every loop CPython makes,
however it is made. One listener (see Listener) hears the moments. The per-iteration hook is
always on and costs one dict lookup and one flag test; what else runs is set by a HookPlan
(apply()): the per-handle hook comes in four weights, and task creation is reported only when
asked. A listener that raises is switched off and told, never allowed to break the user's loop.
"""

import collections
import functools
import sys
import time
import weakref

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames
from . import gilturns
from . import registry
from . import timelimit
from .taskmarks import TaskMarks

_original_run_once = internals.ORIGINALS["run_once"]
_original_run_forever = internals.ORIGINALS["run_forever"]
_original_close = internals.ORIGINALS["close"]
_original_create_task = internals.ORIGINALS["create_task"]
_original_create_future = internals.ORIGINALS["create_future"]
_original_process_events = internals.ORIGINALS["process_events"]
_original_call_exception_handler = internals.ORIGINALS["call_exception_handler"]
_TASK_TYPES = internals.TASK_TYPES
_task_name = internals.task_name  # asyncio's name for the task: a subclass's get_name is never called
_C_TASK = internals.C_TASK
_states = registry.states
_perf_counter = time.perf_counter
_turns = gilturns.turns


class Listener:
    """The moments the hooks report, what each receives, and on which thread. Override what you
    need; the defaults do nothing. state is the loop's registry.LoopState.

    loop_registered(state)       a loop Loopscope had not seen ran an iteration or made a task
    loop_closed(state)           it was closed, or collected without being closed
    before_iteration(state)      at each iteration boundary, on the loop's thread (plan.iterations);
                                 blocking here holds the loop between iterations; setting
                                 state.wait_limit (seconds) wakes the iteration's select() then
    loop_idle(state)             at a boundary where nothing is ready and no timer is scheduled, so
                                 that select() may wait for ever (plan.idle); may hold like before_iteration
    loop_checkpoint(state)       every 64th boundary of a loop that is not idle (plan.idle): for
                                 checks that must not wait for a stop; may hold like before_iteration
    before_handle(state, handle) before a ready handle runs (per-handle hook 'every', or a task
                                 step that may match a function breakpoint); blocking holds it there
    after_handle(state, handle)  after it ran (plan.after_handles)
    task_created(state, task)    inside loop.create_task, on the creating thread (plan.creation)
    task_finished(task)          a task finished in a step the listener did not see run
    task_made(state, task, frame, callee)  a task was made by user code in frame, which called callee
                                 (None: loop.create_task itself) (plan.lints)
    ready_sample(state)          at an iteration boundary, about every SAMPLE_EVERY seconds (plan.sample_ready)
    loop_exception(context)      loop.call_exception_handler(context), on any thread, possibly inside a
                                 finalizer: do no I/O and take no lock (plan.lints)
    exception_reported(state, context)  loop.call_exception_handler(context) was called (a callback
                                 raised, a transport failed...), before the handler runs, on the
                                 thread that called it; state is None for a loop not seen yet
    foreign_loop(loop)           a loop that is not a BaseEventLoop (uvloop's) started, once per type
    replay_news(state, news, text)  at a boundary of a recording session (set_tape): 'arrived' at the
                                 iteration the replay was to stop at, 'diverged' from the recording
                                 (text says how), 'ended' (the tape is over: the loop runs live)
    hooks_disabled(reason)       a moment raised: the listener has been switched off
    """

    def loop_registered(self, state):
        pass

    def loop_closed(self, state):
        pass

    def before_iteration(self, state):
        pass

    def loop_idle(self, state):
        pass

    def loop_checkpoint(self, state):
        pass

    def before_handle(self, state, handle):
        pass

    def after_handle(self, state, handle):
        pass

    def task_created(self, state, task):
        pass

    def task_finished(self, task):
        pass

    def task_made(self, state, task, frame, callee):
        pass

    def ready_sample(self, state):
        pass

    def loop_exception(self, context):
        pass

    def exception_reported(self, state, context):
        pass

    def foreign_loop(self, loop):
        pass

    def replay_news(self, state, news, text):
        pass

    def hooks_disabled(self, reason):
        pass


class HandleHook:
    """The weights of the per-handle hook, lightest first."""
    OFF = "off"                # asyncio's own Handle._run
    SOURCES = "sources"        # explore: how many handles each handle queued (its recording deck's sources)
    LOGGED = "logged"          # each handle timed and appended raw to a deque (stepping whole iterations)
    TASK_STEPS = "task steps"  # only task steps whose task may match a function breakpoint reach the listener
    EVERY = "every"            # every handle reaches the listener


HookPlan = collections.namedtuple("HookPlan", [
    "iterations",       # call before_iteration at every boundary
    "handles",          # a HandleHook
    "after_handles",    # call after_handle too
    "creation",         # call task_created
    "task_step_names",  # the function breakpoint names: marks (3.12+) follow them whatever the handle hook
    "switch_log",       # the deque of HandleHook.LOGGED, else None
    "autojump",         # the virtual clock skips idle waits at each boundary
    "idle",             # call loop_idle when an iteration's select() may wait for ever
    "measure",          # a function(handle, run) that runs a handle with run, timing it
                        # (stepstats.measured_run), under whichever per-handle hook runs; or None
    "lints",            # call task_made and loop_exception
    "sample_ready",     # call ready_sample now and then
    "sources",          # explore: note how many handles each handle queued, whatever the handle hook
], defaults=(False, None, False, False, False))
HookPlan.NOTHING = HookPlan(False, HandleHook.OFF, False, False, frozenset(), None, False)
# How often, at most, ready_sample is called on a loop.
SAMPLE_EVERY = 0.01


class Watch:
    """What the hot paths look at, set from the plan. One object, so that one attribute test
    decides the fast path."""
    iterations = False
    handles = False        # the per-handle hook is EVERY
    after_handles = False
    creation = False
    autojump = False
    idle = False
    lints = False
    sample_ready = False
    sources = False
    task_step_names = frozenset()  # with HandleHook.TASK_STEPS
    switch_log = None              # with HandleHook.LOGGED


watch = Watch()
_task_marks = TaskMarks()
# With function breakpoints on 3.12+, the ids of the tasks whose chain may match (taskmarks), else
# None; and watch.task_step_names again, as a module global for _handle_run_task_steps.
_marks, _step_names = None, frozenset()
_listener = None
_measure = None  # plan.measure


def apply(plan):
    """Switch the hooks as the plan says; Handle._run is looked up per call, so this is instant."""
    global _marks, _step_names, _measure
    watch.iterations = plan.iterations
    watch.lints = plan.lints
    watch.sample_ready = plan.sample_ready
    watch.after_handles = plan.after_handles
    watch.creation = plan.creation
    watch.autojump = plan.autojump
    watch.idle = plan.idle
    watch.sources = plan.sources
    watch.handles = plan.handles == HandleHook.EVERY
    # Marks are kept while any function breakpoint exists, whichever hook runs, so that they are
    # right when the program runs freely again.
    _marks = _task_marks.follow(plan.task_step_names, registry.live_tasks)
    watch.task_step_names = _step_names = frozenset(plan.task_step_names) if plan.handles == HandleHook.TASK_STEPS \
        else frozenset()
    watch.switch_log = plan.switch_log if plan.handles == HandleHook.LOGGED else None
    _measure = plan.measure
    _select_handle_hook({HandleHook.OFF: _handle_run_measured if _measure is not None else None,
                         HandleHook.SOURCES: _handle_run_sources,
                         HandleHook.LOGGED: _handle_run_logged, HandleHook.TASK_STEPS: _handle_run_task_steps,
                         HandleHook.EVERY: _handle_run}[plan.handles])


# --- Handle._run, shared with the program -------------------------------------------------------
# A program may wrap Handle._run itself (slow-callback monitors do). The per-handle hook goes on top
# of whatever is there when it is switched on, and switching it off puts that back, not asyncio's
# own. A program that wraps the hook while it is on keeps calling it from its wrapper; so each hook
# first checks that it is the one selected now, and otherwise hands the handle on (to the selected
# hook, or, with the hooks off, to what it wrapped).
_inner_run = internals.ORIGINALS["handle_run"]  # what the hook wraps: asyncio's, or the program's wrapper
_selected = _inner_run    # what a handle that reaches one of the hooks gets: a hook, or _inner_run when off
_installed = None         # the hook Loopscope last put on Handle._run itself, until it put back _inner_run
_run_handle = _inner_run  # what the hooks call to run a handle (see _set_run_handle)


def _select_handle_hook(hook):
    """hook: one of the per-handle hooks, or None for none."""
    global _inner_run, _selected, _installed
    owner, attribute = internals.PATCHED_METHODS["handle_run"]
    current = vars(owner)[attribute]
    # Replaced since Loopscope put its hook there: by a wrapper of that hook, unless it plainly wraps
    # what the hook wrapped (the program took its wrapper off behind Loopscope's back, and made a new one).
    wrapped_by_the_program = (_installed is not None and current is not _installed and current is not _inner_run
                              and not (_refers_to(current, (_inner_run,)) and not _refers_to(current, _HANDLE_HOOKS)))
    if hook is None:
        if _installed is not None and current is _installed:
            setattr(owner, attribute, _inner_run)
            _installed = None
        _selected = _inner_run  # a hook left inside the program's wrapper now hands every handle on
        _set_run_handle()
        return
    if not wrapped_by_the_program:
        if current is not _installed:
            _inner_run = current  # nothing of Loopscope's there, maybe the program's wrapper: go on top
        setattr(owner, attribute, hook)
        _installed = hook
    # else the program's wrapper calls the hook that was on, which hands each handle on to this one.
    _selected = hook
    _set_run_handle()


def _set_run_handle():
    """What the hooks call to run a handle: what they wrap, timed by plan.measure when it is set."""
    global _run_handle
    _run_handle = functools.partial(_measure, run=_inner_run) if _measure is not None else _inner_run


def _handle_run_measured(self):
    """The per-handle hook when only step statistics watch handles (plan.measure)."""
    if _selected is not _handle_run_measured:  # see _select_handle_hook
        return _selected(self)
    _run_handle(self)
    self = None  # as in _handle_run


def _refers_to(function, targets):
    """Does this function of the program's name one of targets itself: in its closure, its defaults,
    the globals it reads, or __wrapped__ (functools.wraps)?"""
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    names = getattr(function, "__globals__", {})
    found = [cell.cell_contents for cell in (function.__closure__ or ()) if _filled(cell)]
    found += list(function.__defaults__ or ()) + [names.get(name) for name in code.co_names]
    found.append(getattr(function, "__wrapped__", None))
    return any(thing is target for thing in found for target in targets)


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def listening(listener):
    """True while listener is the one the hooks report to."""
    return _listener is listener


# --- naming callbacks -----------------------------------------------------------------------

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
    if registry.is_task(owner):
        return task_callback_label(callback)
    name = getattr(getattr(callback, "__func__", None) or callback, "__qualname__", None)
    if isinstance(name, str):
        return name
    return getattr(callback, "__name__", None) or type(callback).__name__


# --- telling the listener -------------------------------------------------------------------

def _register(loop, thread=None):
    state = registry.register_loop(loop, lambda collected: _notify("loop_closed", collected), thread)
    _notify("loop_registered", state)
    return state


def adopt_running_loop(loop, thread):
    """A loop found already running when Loopscope attached, on thread (ident, name): its state,
    registered now (from whichever thread attaches) rather than at its next iteration."""
    state = registry.state_of(loop)
    if state is None:
        state = _register(loop, thread)
        state.start_run(thread)
    return state


def register(loop):
    """The loop's LoopState, registering it now if it is new (recording.py: a first clock reading)."""
    return registry.state_of(loop) or _register(loop)


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
    apply(HookPlan.NOTHING)
    if listener is not None:
        try:
            listener.hooks_disabled(reason)
        except Exception:
            pass


# --- the hooks -------------------------------------------------------------------------------

def _run_once(self):
    state = _states.get(id(self))
    if state is None or state.loop_ref() is not self:
        state = _register(self)
    if watch.iterations:
        _notify("before_iteration", state)
    if watch.autojump:
        clock_tools.autojump(self, state)
    if watch.idle:
        if not self._ready and not self._scheduled:
            _notify("loop_idle", state)
        elif not state.iteration & 63:
            _notify("loop_checkpoint", state)
    state.iteration += 1
    stats = state.stats
    started = _perf_counter()
    if started >= _turns.next_check:
        _turns.share(started)  # a thread of Loopscope's may be waiting for the GIL (gilturns.py)
        started = _perf_counter()
    if watch.sample_ready and started >= stats.next_sample:
        stats.next_sample = started + SAMPLE_EVERY
        _notify("ready_sample", state)
    stats.iteration_started = started  # stats.begin(started), inline
    stats.handles_started = 0.0
    stats.held_at_iteration = stats.held_seconds
    try:
        if state.wait_limit is None:
            _original_run_once(self)
        else:
            _run_stepped_once(self, state)
    finally:
        stats.end(state.iteration, _perf_counter())


def _run_stepped_once(loop, state):
    """A step (see Listener.before_iteration): select() gets the program's own timeout, and a loop
    still waiting when state.wait_limit is up is woken as call_soon_threadsafe would wake it."""
    alarm = timelimit.alarm(state.wait_limit, _end_wait, state, state.iteration)
    state.wait_limit = None
    try:
        _original_run_once(loop)
    finally:
        timelimit.cancel(alarm)


def _end_wait(state, iteration):
    """On the watchdog thread: the stepped iteration has waited long enough."""
    if state.iteration == iteration:  # else it is over (the next one waits for its own reasons)
        internals.wake(state.loop)


def _process_events(self, event_list):
    # select() has returned: from here the iteration runs handles (the blocked-loop watchdog looks).
    state = _states.get(id(self))
    if state is not None:
        state.stats.handles_started = _perf_counter()
    return _original_process_events(self, event_list)


def _call_exception_handler(self, context):
    # Only on errors, so it costs nothing while the program runs well.
    if watch.lints:  # "Task exception was never retrieved", "Task was destroyed but it is pending!"
        _notify("loop_exception", context)
    if _listener is not None:
        _notify("exception_reported", registry.state_of(self), context)
    return _original_call_exception_handler(self, context)


_tape = None  # the session's recording.Recorder while it records or replays (set_tape)


def _run_once_taped(self):
    """_run_once while the session records or replays: the deck sees each boundary first (a replay
    compares the ready queue there), and codes the ready queue after any hold."""
    state = _states.get(id(self))
    if state is None or state.loop_ref() is not self:
        state = _register(self)
    deck = state.record
    if deck is None and _tape is not None:
        deck = _tape.deck(state)
    if deck is not None and deck.boundary_work:
        try:
            news = deck.at_boundary(self)
        except Exception as error:  # a Loopscope bug must not become the user's bug
            deck = news = None
            _drop_tape(state, error)
        if news is not None:
            _notify("replay_news", state, *news)
    if watch.iterations:
        _notify("before_iteration", state)
    if watch.autojump and (deck is None or not deck.replaying):
        clock_tools.autojump(self, state)
    if watch.idle:
        if not self._ready and not self._scheduled:
            _notify("loop_idle", state)
        elif not state.iteration & 63:
            _notify("loop_checkpoint", state)
    if deck is not None and _tape is not None:
        try:
            deck.begin_iteration(self)
        except Exception as error:
            _drop_tape(state, error)
    # From here as _run_once.
    state.iteration += 1
    stats = state.stats
    started = _perf_counter()
    if started >= _turns.next_check:
        _turns.share(started)  # a thread of Loopscope's may be waiting for the GIL (gilturns.py)
        started = _perf_counter()
    if watch.sample_ready and started >= stats.next_sample:
        stats.next_sample = started + SAMPLE_EVERY
        _notify("ready_sample", state)
    stats.iteration_started = started
    stats.handles_started = 0.0
    stats.held_at_iteration = stats.held_seconds
    try:
        if state.wait_limit is None:
            _original_run_once(self)
        else:
            _run_stepped_once(self, state)
    finally:
        stats.end(state.iteration, _perf_counter())


def _drop_tape(state, error):
    """The recording failed: the session goes on without it, and says so."""
    set_tape(None)
    _notify("replay_news", state, "failed", "Loopscope stopped recording after an internal error: %r" % (error,))


def set_tape(recorder):
    """Record or replay the schedule with recorder (a recording.Recorder), or stop (None). The taped
    _run_once goes in only then: a session that does not record pays nothing for it."""
    global _tape
    _tape = recorder
    _HOOKS["run_once"] = _run_once_taped if recorder is not None else _run_once
    if _listener is not None:
        internals.patch("run_once", _HOOKS["run_once"])


def _run_forever(self):
    state = registry.state_of(self) or _register(self)
    state.start_run()
    return _original_run_forever(self)


def _close(self):
    known = registry.state_of(self) is not None
    result = _original_close(self)
    if known:
        state = registry.forget_loop(self)
        if state is not None:
            _notify("loop_closed", state)
    return result


def _create_task(self, *args, **kwargs):
    state = _states.get(id(self))
    if state is None or state.loop_ref() is not self:
        state = _register(self)  # before the task, so a loop's id comes before its tasks' ids
    task = _original_create_task(self, *args, **kwargs)
    frame, callee = sys._getframe(1), None
    while frame is not None and not frames.is_user_file(frame.f_code.co_filename):
        frame, callee = frame.f_back, frame
    registry.record_created(task, (frame.f_code.co_filename, frame.f_lineno) if frame is not None else None,
                            internals.current_task(self) if internals.get_running_loop() is self else None)
    if watch.lints and frame is not None:
        _notify("task_made", state, task, frame, callee)
    callee = None
    # Its own coroutine matches? (A task factory may return something else than a Task; an eager
    # task may have finished already.)
    if _marks is not None and isinstance(task, _TASK_TYPES) and not task.done() \
            and frames.task_matches(task, _task_marks.names):
        _marks.add(id(task))
    if _tape is not None:
        _tape.task_created(self, task)  # its ordinal on the loop: tasks are coded by creation order
    if watch.creation:
        _notify("task_created", state, task)
    return task


def _create_future(self):
    # Only the caller's frame is looked at, so that asyncio.sleep and the libraries' own futures
    # cost one test: the Futures view names where the program made a future it awaits itself.
    future = _original_create_future(self)
    caller = sys._getframe(1)
    if frames.is_user_file(caller.f_code.co_filename):
        registry.record_created(future, (caller.f_code.co_filename, caller.f_lineno))
    return future


def _handle_run(self):
    if _selected is not _handle_run:  # see _select_handle_hook
        _selected(self)
    else:
        _report_handle(self)
    # Every hook lets go of the handle before it returns, as asyncio's own Handle._run does: this
    # frame sits under the handle's callback, so a traceback from it keeps the frame, and a frame
    # that kept the handle would keep its task alive in a cycle (its "exception was never
    # retrieved" report would wait for the garbage collector).
    self = None


def _report_handle(self):
    # The hot path while anything watches handles: no allocation, no lookup by name.
    listener = _listener
    state = _states.get(id(self._loop))
    if state is None or listener is None:
        _run_handle(self)
        self = None  # see the end of this function
        return
    try:
        listener.before_handle(state, self)
    except Exception as error:
        _disable("before_handle hook failed: %r" % (error,))
    state.current_handle = self
    counting = watch.sources
    if counting:
        ready = internals.ready_queue(self._loop)
        before = len(ready)
    try:
        _run_handle(self)
    finally:
        if counting and state.record is not None:
            state.record.sources.append(len(ready) - before)
        state.current_handle = None
        if watch.after_handles:
            try:
                listener.after_handle(state, self)
            except Exception as error:
                _disable("after_handle hook failed: %r" % (error,))
        self = None  # see _handle_run


def _handle_run_task_steps(self):
    """The per-handle hook while only function breakpoints watch: a plain callback costs an
    attribute lookup and a type test; a task step also the task name's lookup and, before 3.12 or
    for a task taskmarks marked, the match of its await chain. Only a task that may match reaches
    the listener, and one that finished (for the views)."""
    if _selected is not _handle_run_task_steps:  # see _select_handle_hook
        _selected(self)
        self = None  # see _handle_run
        return
    task = getattr(self._callback, "__self__", None)
    if not isinstance(task, _TASK_TYPES):
        _run_handle(self)
        self = None  # as in _handle_run
        return
    marks = _marks  # module globals: cheaper than watch's attributes on this path
    name = task.get_name() if type(task) is _C_TASK else _task_name(task)  # a subclass's get_name: never
    if marks is None or id(task) in marks or name in _step_names:
        if frames.task_matches(task, _step_names):
            _report_handle(self)
            self = task = None
            return
        if marks is not None:
            marks.discard(id(task))  # before the step, which may mark it again
    _run_handle(self)
    if task.done():  # the views list recently finished tasks
        if marks is not None:
            marks.discard(id(task))
        _notify("task_finished", task)
    self = task = None  # see _handle_run


def _handle_run_sources(self):
    """The per-handle hook of explore runs: how many handles each handle queued, so that explore
    interleaves only handles queued by different sources (perturbation.py)."""
    if _selected is not _handle_run_sources:  # see _select_handle_hook
        return _selected(self)
    loop = self._loop
    state = _states.get(id(loop))
    ready = internals.ready_queue(loop)
    before = len(ready)
    try:
        _run_handle(self)
    finally:
        if state is not None and state.record is not None:
            state.record.sources.append(len(ready) - before)
        self = None  # as in _handle_run


_weakref = weakref.ref


def _handle_run_logged(self):
    """The per-handle hook while the user steps whole iterations and nothing else watches handles:
    each handle is timed and appended to watch.switch_log as a raw tuple, which the Task Switches
    history reads only when asked (about 1 µs a handle, where the full hook costs about 5 µs).
    Tasks are held by weak reference; a task that just finished is described at once, as
    (id, name, coroutine name, how it ended); one still pending has where it suspended noted."""
    if _selected is not _handle_run_logged:  # see _select_handle_hook
        _selected(self)
        self = None  # see _handle_run
        return
    log = watch.switch_log
    state = _states.get(id(self._loop))
    if log is None or state is None:
        _run_handle(self)
        self = None  # as in _handle_run
        return
    stamp = state.log_stamp  # (iteration, loop time at its first handle)
    if stamp[0] != state.iteration:
        stamp = state.log_stamp = (state.iteration, clock_tools.peek(state.loop_ref()))
    callback = self._callback
    task = getattr(callback, "__self__", None)
    if isinstance(task, _TASK_TYPES):
        subject, kind = _weakref(task), _TASK_CALLBACK_LABELS.get(type(callback)) or task_callback_label(callback)
    else:
        subject, kind, task = None, callback_name(callback), None
    callback = None
    started = _perf_counter()
    _run_handle(self)
    ended = _perf_counter()
    place = None
    if task is not None:
        if task.done():  # described now: the log must not keep it alive
            subject = (registry.task_id(task), _task_name(task), frames.coroutine_name(internals.task_coroutine(task)),
                       registry.how_task_ended(task))
            _notify("task_finished", task)
        else:
            place = frames.resume_site(task)[0]  # where it suspended: (filename, line)
    log.append((state.id, stamp[0], stamp[1], subject, kind, started, ended, place))
    self = task = subject = None  # see _handle_run


_foreign_loop_types = set()


def _set_running_loop(loop):
    """Every loop that starts running passes here, asyncio's own and others (uvloop's is not a
    BaseEventLoop, so none of the hooks above see it): the listener hears of each foreign kind once."""
    if loop is not None and not isinstance(loop, internals.BaseEventLoop) and type(loop) not in _foreign_loop_types:
        _foreign_loop_types.add(type(loop))
        _notify("foreign_loop", loop)
    return internals.original_set_running_loop(loop)


_HOOKS = {"run_once": _run_once, "run_forever": _run_forever, "close": _close, "create_task": _create_task,
          "create_future": _create_future, "process_events": _process_events,
          "call_exception_handler": _call_exception_handler}
_HANDLE_HOOKS = (_handle_run, _handle_run_task_steps, _handle_run_logged, _handle_run_measured, _handle_run_sources)


def install(listener):
    """Hook asyncio for this process; listener (a Listener) hears the moments."""
    global _listener
    _listener = listener
    for name, hook in _HOOKS.items():
        internals.patch(name, hook)
    internals.set_running_loop_hook(_set_running_loop)


def uninstall(keep_clock=False):
    """Put asyncio back as it was, and forget every loop. keep_clock: the loops' time stays the
    debugger's (their timers were set in it), and so do the loop states that hold each loop's skew."""
    global _listener, _tape
    _listener = None
    _tape = None
    _HOOKS["run_once"] = _run_once
    apply(HookPlan.NOTHING)
    if not keep_clock:
        clock_tools.uninstall()
    for name in _HOOKS:
        internals.patch(name, None)
    internals.set_running_loop_hook(None)
    if not keep_clock:
        registry.forget_all()


def hook_code_objects():
    """Code objects of the hooks, so stack walks can leave Loopscope's frames out."""
    return {f.__code__ for f in (_run_once, _run_once_taped, _run_forever, _close, _create_task, _create_future,
                                 _handle_run, _report_handle, _handle_run_task_steps, _handle_run_logged,
                                 _handle_run_measured, _handle_run_sources, _notify, _set_running_loop,
                                 _process_events, _call_exception_handler)}
