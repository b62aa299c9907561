"""What Loopscope reads of asyncio's private state, and what differs between CPython versions.

Every read of an asyncio attribute that is not public API is one function (or one name) here, and
every version test is one flag, so that a new CPython release is a change to this module and its
tests (test_asyncio_internals.py). Two kinds of code read private attributes inline on purpose:
the per-handle hooks in instrument.py (Handle._callback and Handle._loop, HOT_PATH below), where
a function call would cost a tenth of the hook, and the methods instrument.py replaces
(PATCHED_METHODS). A test keeps every other module from reading private asyncio attributes.
"""

import asyncio
import concurrent.futures
import gc
import heapq
import operator
import sys
import types
from asyncio import base_events, events, futures, selector_events

from . import bootstrap
from .vocabulary import NEWEST_PYTHON, OLDEST_PYTHON

VERSION = sys.version_info[:2]
SUPPORTED = OLDEST_PYTHON <= VERSION <= NEWEST_PYTHON

# --- version flags --------------------------------------------------------------------------

# sys.monitoring (PEP 669): line breakpoints and task marks without sys.settrace.
HAS_MONITORING = hasattr(sys, "monitoring")
# Code objects know their qualified name.
HAS_QUALNAME = hasattr(types.CodeType, "co_qualname")
# 3.12's C Task.get_coro() crashes the interpreter on an eager task that finished inside
# create_task (3.12.1; later 3.12 releases return None). gc.get_referents sees the coroutine safely.
GET_CORO_MAY_CRASH = VERSION == (3, 12)
# asyncio.capture_call_graph() and friends (3.14+): CPython's own view of who awaits whom.
HAS_CALL_GRAPH = hasattr(asyncio, "capture_call_graph")
# frame.f_locals of a function's frame is a dict snapshot kept on the frame (PEP 667 made it a
# write-through proxy in 3.13).
FRAME_LOCALS_IS_SNAPSHOT = VERSION < (3, 13)
# The interpreter makes a script's path absolute (__file__, code objects) from 3.9.
ABSOLUTE_SCRIPT_PATH = VERSION >= (3, 9)
# From 3.14 the pure-Python Task keeps its own current task and task registry, which the C
# asyncio.current_task() and all_tasks() do not see (CPython's own tests run both kinds).
PY_TASKS_APART = VERSION >= (3, 14)
# asyncio.EventLoop (3.13+) is a separate name for the default loop class.
DEFAULT_LOOP_CLASS = getattr(asyncio, "EventLoop", None)

# Attributes the per-handle hooks read inline (see the module docstring).
HOT_PATH = ("Handle._callback", "Handle._loop", "BaseEventLoop._ready", "BaseEventLoop._scheduled")
# The methods instrument.py replaces on asyncio's classes, and asyncio's originals.
PATCHED_METHODS = {
    "run_once": (base_events.BaseEventLoop, "_run_once"),
    "run_forever": (base_events.BaseEventLoop, "run_forever"),
    "close": (base_events.BaseEventLoop, "close"),
    "create_task": (base_events.BaseEventLoop, "create_task"),
    "create_future": (base_events.BaseEventLoop, "create_future"),
    "handle_run": (events.Handle, "_run"),
    # select() has returned: the iteration's handle phase begins (selector loops, every Unix loop).
    "process_events": (selector_events.BaseSelectorEventLoop, "_process_events"),
    "call_exception_handler": (base_events.BaseEventLoop, "call_exception_handler"),
}


def unlent(method):
    """What a lending wait wraps (bootstrap.Lending: imported while the loops wait, the runtime
    must not take the wait for asyncio's own), else method itself."""
    return getattr(method, bootstrap.LENDS, method)


ORIGINALS = {name: unlent(vars(owner)[attribute]) for name, (owner, attribute) in PATCHED_METHODS.items()}


def patch(name, function):
    """Put function in place of one of PATCHED_METHODS. None puts asyncio's original back, but only
    where Loopscope's function is still there: a program that wrapped it (nest_asyncio wraps
    _run_once) keeps its wrapper, which goes on calling Loopscope's (it passes through when no one
    listens)."""
    owner, attribute = PATCHED_METHODS[name]
    if function is None:
        if vars(owner)[attribute] is _patched.pop(name, None):
            setattr(owner, attribute, ORIGINALS[name])
        return
    setattr(owner, attribute, function)
    _patched[name] = function


_patched = {}  # name -> the function patch() put in place


# Every loop that starts running passes through here (uvloop's too); asyncio re-exports it.
original_set_running_loop = events._set_running_loop
get_running_loop = events._get_running_loop


def set_running_loop_hook(hook):
    """Install hook (or asyncio's own function, given None) where loops announce that they run:
    asyncio.events and the asyncio package, from which uvloop takes its copy when imported. None
    leaves alone a module where the program put a function of its own."""
    for module in (events, asyncio):
        if hook is not None or module._set_running_loop is _running_loop_hook[0]:
            module._set_running_loop = hook or original_set_running_loop
    _running_loop_hook[0] = hook


_running_loop_hook = [None]


# The Task classes: the C one and the pure-Python one (CPython's tests use both).
TASK_TYPES = tuple(t for t in (getattr(asyncio.tasks, "_CTask", None), getattr(asyncio.tasks, "_PyTask", None),
                               asyncio.Task) if t is not None)
FUTURE_TYPES = tuple(t for t in (getattr(futures, "_CFuture", None), getattr(futures, "_PyFuture", None),
                                 asyncio.Future) if t is not None)
BaseEventLoop = base_events.BaseEventLoop
TimerHandle = events.TimerHandle


# --- loops ----------------------------------------------------------------------------------

def ready_queue(loop):
    """The loop's ready handles, in the order they run (a deque; cancelled ones included)."""
    return loop._ready


def scheduled_timers(loop):
    """The loop's timer heap (TimerHandles, cancelled ones included)."""
    return loop._scheduled


def shift_timers(loop, seconds):
    """Move every timer of the loop by seconds (all alike, so the heap stays ordered). On the
    loop's own thread only: it is the one that pushes and pops them."""
    for timer in loop._scheduled:
        timer._when += seconds


def is_stopping(loop):
    """loop.stop() was called: this iteration is the last of run_forever, and select() won't wait."""
    return loop._stopping


def selector_of(loop):
    """The selector a selector loop polls, or None (a proactor or a foreign loop)."""
    return getattr(loop, "_selector", None)


def set_selector(loop, selector):
    """Give one loop a selector of Loopscope's (recording.py wraps the loop's own)."""
    loop._selector = selector


def _call_first(loop, name, before):
    """before(*args, **kwargs) runs ahead of each call of this one loop's method name."""
    original = getattr(loop, name)

    def method(*args, **kwargs):
        before(*args, **kwargs)
        return original(*args, **kwargs)
    setattr(loop, name, method)


def before_serving(loop, listening):
    """listening(sock) is called before this one loop starts accepting on a listening socket
    (create_server, start_server, Server.start_serving) that is not TLS; recording.py numbers it.
    Every supported version passes sock second to loop._start_serving, and its sslcontext third."""
    def serving(_protocol_factory, sock, *args, **kwargs):
        if (args[0] if args else kwargs.get("sslcontext")) is None:
            listening(sock)
    _call_first(loop, "_start_serving", serving)


def loop_thread_id(loop):
    """The thread running the loop now (run_forever sets it), or None while it does not run."""
    return getattr(loop, "_thread_id", None)


# The handle call_soon_threadsafe makes: its own class from 3.14 (thread-safe cancel).
_THREADSAFE_HANDLE = getattr(events, "_ThreadSafeHandle", events.Handle)


def new_threadsafe_handle(callback, args, loop, context):
    """The handle call_soon_threadsafe would append to the ready queue (recording.py lets it in later)."""
    return _THREADSAFE_HANDLE(callback, args, loop, context)


def self_pipe_fd(loop):
    """The fd of the loop's own wake-up pipe, which is always registered with its selector."""
    sock = getattr(loop, "_ssock", None)
    try:
        return sock.fileno() if sock is not None else -1
    except Exception:
        return -1


def running_thread(loop):
    """The ident of the thread running the loop now, or None when it is not running."""
    return getattr(loop, "_thread_id", None)


def wake(loop):
    """Make a loop blocked in select() return at once (what call_soon_threadsafe does)."""
    if loop is None or loop.is_closed():
        return
    write_to_self = getattr(loop, "_write_to_self", None)
    if write_to_self is not None:
        try:
            write_to_self()
        except Exception:
            pass


# --- the tasks of a loop --------------------------------------------------------------------

_py_current_task = getattr(asyncio.tasks, "_py_current_task", None) if PY_TASKS_APART else None
_py_all_tasks = getattr(asyncio.tasks, "_py_all_tasks", None) if PY_TASKS_APART else None


def current_task(loop):
    """The task running on loop now, C Task or pure-Python Task alike."""
    task = asyncio.current_task(loop)
    if task is None and _py_current_task is not None:
        task = _py_current_task(loop)
    return task


def all_tasks(loop):
    """The loop's pending tasks, C Tasks and pure-Python Tasks alike (may raise RuntimeError while
    another thread adds a task: registry.pending_tasks retries)."""
    tasks = asyncio.all_tasks(loop)
    if _py_all_tasks is not None:
        tasks |= _py_all_tasks(loop)
    return tasks


# --- handles and timers ---------------------------------------------------------------------

def handle_callback(handle):
    return handle._callback


# handle_callback at C speed, for map() over a whole ready queue (handlecodes.py).
HANDLE_CALLBACK_NAME = "_callback"
HANDLE_CALLBACK = operator.attrgetter(HANDLE_CALLBACK_NAME)


def handle_args(handle):
    return handle._args or ()


def handle_owner(handle):
    """The object whose bound method the handle calls (the Task, for a task step), or None."""
    return getattr(handle._callback, "__self__", None)


def timer_loop(timer):
    return timer._loop


def timer_owner(timer):
    """The object a timer's callback belongs to; asyncio.timeout's Timeout stands for its task."""
    owner = getattr(timer._callback, "__self__", None)
    return getattr(owner, "_task", owner)


# --- tasks and futures ----------------------------------------------------------------------

def task_waiter(task):
    """The future a pending task is blocked on, or None (ready, running, or not started)."""
    return getattr(task, "_fut_waiter", None)


_FUT_WAITER = operator.attrgetter("_fut_waiter")


def task_waiters(tasks):
    """[task_waiter(task) for task in tasks], at C speed (a snapshot reads it for every task)."""
    try:
        return list(map(_FUT_WAITER, tasks))
    except AttributeError:  # an odd task type
        return [task_waiter(task) for task in tasks]


def is_task_wakeup(callback):
    """A done-callback that wakes a waiting task (C: TaskWakeupMethWrapper or task_wakeup;
    Python: Task.__wakeup): it only resumes the task, it resolves nothing."""
    if not isinstance(getattr(callback, "__self__", None), TASK_TYPES):
        return False
    name = getattr(callback, "__name__", None) or type(callback).__name__
    return "wakeup" in name.lower()


def task_cancelling(task):
    """A cancel was asked for and the task has not taken it yet (it raises CancelledError at its
    next step): Task.cancelling() from 3.11, the _must_cancel flag before."""
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None:
        try:
            return cancelling() > 0
        except Exception:
            return False
    if getattr(task, "_must_cancel", False):
        return True
    # Before 3.11, cancel() cancels the future the task waits on instead, when it can.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and waiter.cancelled()


def future_callback_entries(future):
    """A future's done-callbacks with their contexts: [(callback, context or None)]."""
    callbacks = getattr(future, "_callbacks", None) or ()
    return [entry if isinstance(entry, tuple) else (entry, None) for entry in callbacks]


def future_callbacks(future):
    """A future's done-callbacks (without their contexts)."""
    callbacks = getattr(future, "_callbacks", None) or ()
    return [entry[0] if isinstance(entry, tuple) else entry for entry in callbacks]


def future_result(future):
    """A finished future's result, read without side effects."""
    return getattr(future, "_result", None)


def future_exception(future):
    """A finished future's exception, read without marking it retrieved: calling exception()
    would silence asyncio's "exception was never retrieved" for the program."""
    if future.cancelled():
        return None
    return getattr(future, "_exception", None)


def gather_children(future):
    """The children of a gather's future, or None for any other future."""
    children = getattr(future, "_children", None)
    return children if isinstance(children, list) else None


# A subclass's methods are the program's code, which may block, raise, or do things the program does
# not expect to happen when it did not call them. So what asyncio keeps for a task or future (its name,
# loop, coroutine) is read with the method of the asyncio class it derives from.
_ASYNCIO_CLASSES = TASK_TYPES + FUTURE_TYPES
C_TASK = getattr(asyncio.tasks, "_CTask", None)  # exactly this type: get_name and the rest are asyncio's
_own_methods = {}  # (type, method name) -> asyncio's own method for it, or None


def _own_method(kind, name):
    key = (kind, name)
    try:
        return _own_methods[key]
    except KeyError:
        base = next((cls for cls in kind.__mro__ if cls in _ASYNCIO_CLASSES), None)
        method = _own_methods[key] = getattr(base, name, None) if base is not None else None
        return method


def task_name(task):
    """The name asyncio keeps for a task (name=, set_name), without calling a subclass's get_name."""
    if type(task) is C_TASK:
        return task.get_name()
    get_name = _own_method(type(task), "get_name")
    return get_name(task) if get_name is not None else task.get_name()


def future_loop(future):
    """The loop of a task or future, without calling a subclass's get_loop."""
    get_loop = _own_method(type(future), "get_loop")
    return get_loop(future) if get_loop is not None else getattr(future, "_loop", None)


_COROUTINE = types.CoroutineType
_GENERATOR = types.GeneratorType


def task_coroutine(task):
    """The coroutine a task runs (None once an eager task has dropped it), without calling a
    subclass's get_coro."""
    get_coro = _own_method(type(task), "get_coro")
    if get_coro is None:
        return getattr(task, "_coro", None)
    if GET_CORO_MAY_CRASH and task.done():
        return next((r for r in gc.get_referents(task) if type(r) in (_COROUTINE, _GENERATOR)), None)
    return get_coro(task)


# --- primitives: locks, queues, streams, subprocesses (blockers.py, ownership.py, deadlocks.py) --

_GETSET_DESCRIPTOR = type(type.__dict__["__dict__"])


def instance_dict(value):
    """An object's attribute dict, read through CPython's own descriptor only (a class whose
    __dict__ is a property, or an object without one, gives None): no program code runs."""
    if value is None:
        return None
    for klass in type(value).__mro__:
        descriptor = vars(klass).get("__dict__")
        if descriptor is not None:
            if type(descriptor) is not _GETSET_DESCRIPTOR:
                return None
            attributes = descriptor.__get__(value, type(value))
            return attributes if type(attributes) is dict else None
    return None


_MEMBER_DESCRIPTOR = type(type("_Slotted", (), {"__slots__": ("x",)}).__dict__["x"])


def private(obj, name, default=None):
    """One private attribute of an asyncio object, from its instance dict or its __slots__ (asyncio's
    transports have both): never a property or a __getattr__ of a subclass."""
    attributes = instance_dict(obj)
    if attributes is not None and name in attributes:
        return attributes[name]
    for klass in type(obj).__mro__:
        slot = vars(klass).get(name)
        if slot is not None:
            if type(slot) is not _MEMBER_DESCRIPTOR:
                return default
            try:
                return slot.__get__(obj, type(obj))
            except AttributeError:
                return default
    return default


# The one attribute each pure-Python primitive keeps its state in: ownership.py watches them.
PRIMITIVE_STATE = ((asyncio.Lock, "_locked"), (asyncio.Semaphore, "_value"), (asyncio.Event, "_value"),
                   (asyncio.Queue, "_unfinished_tasks"))


def is_sleep_timer(timer):
    """A timer that completes the future asyncio.sleep awaits (not a timeout's)."""
    return getattr(handle_callback(timer), "__name__", "") == "_set_result_unless_cancelled"


def primitive_waiters(primitive):
    """The futures of the tasks waiting on a Lock, Semaphore, Event or Condition, oldest first."""
    return tuple(private(primitive, "_waiters") or ())


def queue_getters(queue):
    return tuple(private(queue, "_getters") or ())


def lock_is_locked(lock):
    return bool(private(lock, "_locked"))


def event_is_set(event):
    return bool(private(event, "_value"))


def semaphore_slots(semaphore):
    """(free slots, bound or None): a BoundedSemaphore knows how many it started with."""
    return private(semaphore, "_value", 0), private(semaphore, "_bound_value")


def barrier_fill(barrier):
    """(tasks waiting, parties) of an asyncio.Barrier."""
    return private(barrier, "_count"), private(barrier, "_parties")


def queue_fill(queue):
    """(items, maxsize, unfinished) of an asyncio.Queue."""
    items = private(queue, "_queue")
    return len(items) if items is not None else 0, private(queue, "_maxsize", 0), private(queue, "_unfinished_tasks", 0)


def transport_of(obj):
    """The transport of a StreamReader, a stream protocol or an asyncio.subprocess.Process."""
    return private(obj, "_transport")


def transport_peer(transport):
    """The peer address a socket transport was made with, or None."""
    extra = private(transport, "_extra") if transport is not None else None
    return extra.get("peername") if isinstance(extra, dict) else None


def subprocess_of(transport):
    """(pid, the subprocess.Popen) of a subprocess transport."""
    return private(transport, "_pid"), private(transport, "_proc")


def watched_fds(loop):
    """{fd: selector key} the loop's selector watches, other than the loop's own wake-up pipe;
    None when it cannot tell (no selector: a proactor)."""
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return None
    try:
        watched = dict(selector.get_map())
    except Exception:
        return None
    own = getattr(loop, "_ssock", None)
    if own is not None:
        watched.pop(own.fileno(), None)
    return watched


def signal_handlers(loop):
    return getattr(loop, "_signal_handlers", None) or {}


def executor_source(future):
    """The concurrent.futures.Future an asyncio future was chained to (run_in_executor, to_thread,
    wrap_future), from the closure of its _call_check_cancel callback."""
    for callback in future_callbacks(future):
        if getattr(callback, "__name__", "") != "_call_check_cancel":
            continue
        for cell in getattr(callback, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, concurrent.futures.Future):
                return value
    return None
# --- running handles by hand (an await in the Debug Console, consoleawait.py) ----------------

def call_handle(handle):
    """Run a handle's callback in its context, as Handle._run does, but without its catch-all (the
    caller decides what an exception means) and without the per-handle hooks."""
    return handle._context.run(handle._callback, *handle._args)


def report_callback_error(loop, handle, error):
    """What Handle._run does with an exception its callback raised: the loop's exception handler."""
    context = {"message": "Exception in callback %r" % (handle,), "exception": error, "handle": handle}
    loop.call_exception_handler(context)


def take_timer(loop, timer):
    """Take one timer out of the loop's heap, with the bookkeeping _run_once does when it pops one
    (a cancelled timer was counted in _timer_cancelled_count)."""
    heap = loop._scheduled
    index = next((i for i, item in enumerate(heap) if item is timer), None)  # by identity: TimerHandle has __eq__
    if index is None:
        return False
    del heap[index]
    heapq.heapify(heap)
    if timer._scheduled:
        timer._scheduled = False
        if timer.cancelled():
            loop._timer_cancelled_count = max(0, loop._timer_cancelled_count - 1)
    return True


def before_datagram_transport(loop, datagram):
    """datagram(sock) is called before this one loop makes a datagram transport on sock
    (create_datagram_endpoint); every supported version passes sock first."""
    _call_first(loop, "_make_datagram_transport", lambda sock, *args, **kwargs: datagram(sock))


def clock_resolution(loop):
    """How early a timer may run: _run_once runs those due before time() + this."""
    return getattr(loop, "_clock_resolution", 1e-9)


def watched_io(loop):
    """[(selector key, reader handle or None, writer handle or None)] of a selector loop."""
    selector = selector_of(loop)
    if selector is None:
        return []
    watched = []
    for key in list(selector.get_map().values()):
        data = key.data
        reader, writer = data if isinstance(data, tuple) and len(data) == 2 else (None, None)
        watched.append((key, reader, writer))
    return watched


def process_io(loop, event_list):
    """Hand (selector key, event mask) pairs to the loop as its own select() would: their reader
    and writer handles join the ready queue (or are dropped, if cancelled)."""
    loop._process_events(event_list)


def leave_current_task(loop):
    """Make no task current on loop (the held task's step is still running below the debugger) so
    that another task can step; returns what enter_task_again needs."""
    task = current_task(loop)
    if task is None:
        return None
    leave = asyncio.tasks._leave_task
    if PY_TASKS_APART and asyncio.current_task(loop) is not task:  # a pure-Python task keeps its own
        leave = asyncio.tasks._py_leave_task
    leave(loop, task)
    return task, leave


def quiet_if_left_pending(task):
    """A task Loopscope leaves pending on purpose: no "Task was destroyed but it is pending!" for it."""
    try:
        task._log_destroy_pending = False
    except AttributeError:
        pass


def enter_task_again(loop, left):
    if left is None:
        return
    task, leave = left
    enter = asyncio.tasks._py_enter_task if leave is getattr(asyncio.tasks, "_py_leave_task", None) \
        else asyncio.tasks._enter_task
    enter(loop, task)

