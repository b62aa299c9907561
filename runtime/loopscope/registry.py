"""The loops and tasks Loopscope has seen: their small ids, where each task was created, how a
finished task ended, and the recently finished tasks the views still show.

Loops, tasks and futures share one id space, because loops and tasks are both DAP threads. Tasks
get their id when created (instrument's create_task hook), so ids follow creation order; futures,
and tasks made without loop.create_task, on first sight. Everything is held weakly: Loopscope
must never keep a loop or a task alive.
"""

import collections
import itertools
import weakref

from . import asyncio_internals as internals
from . import frames
from .loopstats import LoopStats

_ids = itertools.count(1)
_run_numbers = itertools.count(1)
# id(loop) -> LoopState. Read by the hooks and the clock on every iteration; written only here.
states = {}
# task or future -> (id, (filename, line) of the user code that made it, or None, Creator or None[,
# the last ownership.Wake])
_info = weakref.WeakKeyDictionary()
_as_creator = weakref.WeakKeyDictionary()  # task -> the Creator the tasks it creates share

Creator = collections.namedtuple("Creator", "id name place creator ref")
Creator.__doc__ = """The task that created a task, as it was then: its id, name, the place of its own
creation, its own Creator, and a weak reference to it. Kept as values, so that the chain outlives
the tasks in it."""


def new_id():
    """A fresh id in the space loops, tasks, futures and threads share."""
    return next(_ids)


class LoopState:
    """What Loopscope knows of one event loop. Its id is the loop's DAP thread id."""

    is_loop = True  # a stop's state is a LoopState or a plainthreads.ThreadState
    __slots__ = ("id", "loop_ref", "thread_ident", "thread_name", "iteration", "run_number", "clock_skew",
                 "current_handle", "log_stamp", "wait_limit", "stats", "record", "held", "__weakref__")

    def __init__(self, loop, thread=None):
        """thread: (ident, name) of the thread the loop runs on, when that is not this one (a loop
        found running when Loopscope attached)."""
        self.id = next(_ids)
        self.loop_ref = weakref.ref(loop)
        # frames.current_thread(), not threading's: that would make a _DummyThread on a thread threading
        # did not start. Again when the loop starts running.
        self.thread_ident, self.thread_name = thread if thread is not None else frames.current_thread()
        self.iteration = 0          # iterations started
        self.run_number = 0         # which run_forever (numbered across loops) runs it now
        self.clock_skew = 0.0       # seconds the virtual clock jumped ahead on this loop
        self.current_handle = None  # the handle running now, while handles are watched
        self.log_stamp = (-1, 0.0)  # (iteration, loop time at its first handle): instrument._handle_run_logged
        self.wait_limit = None      # the next iteration is a step: its select() waits at most this long
        self.stats = LoopStats()    # timings of its iterations (loopstats.py)
        self.record = None          # its recording.LoopDeck while the session records or replays
        self.held = False           # the debugger is serving a stop on its thread

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

    def start_run(self, thread=None):
        """run_forever starts, on the thread the loop belongs to from now on (it may have been first
        seen on another, where a task was made for it): this one, or thread (ident, name) for a loop
        found running when Loopscope attached."""
        self.run_number = next(_run_numbers)
        self.thread_ident, self.thread_name = thread if thread is not None else frames.current_thread()


def register_loop(loop, on_collected, thread=None):
    """A new LoopState for loop; on_collected(state) is called if the loop is collected unclosed."""
    state = LoopState(loop, thread)
    key = id(loop)
    states[key] = state
    # Weakly: the state holds this callback (through loop_ref), so a strong reference back would be
    # a cycle that keeps the state, and the handle it may still name, until the collector runs.
    state_ref = weakref.ref(state)

    def forget(_ref, key=key):
        state = state_ref()
        if state is not None and states.get(key) is state:
            del states[key]
            on_collected(state)

    state.loop_ref = weakref.ref(loop, forget)
    return state


def forget_loop(loop):
    """The closed loop's state, now forgotten; None if it was not known."""
    state = state_of(loop)
    if state is not None:
        del states[id(loop)]
    return state


def state_of(loop):
    state = states.get(id(loop))
    if state is not None and state.loop_ref() is loop:
        return state
    return None


def loop_states():
    return [state for state in list(states.values()) if state.loop is not None]


def forget_all():
    states.clear()


# --- tasks and futures ----------------------------------------------------------------------

def is_task(obj):
    return isinstance(obj, internals.TASK_TYPES)


def record_created(task, where, creator=None):
    """A task (or future) just created, with the (filename, line) of the user code that created it,
    and the task that was running then (creator), if any. The tasks one task creates share one
    Creator (100,000 tasks made by main cost one)."""
    link = None
    if creator is not None:
        name = task_name(creator)
        link = _as_creator.get(creator)
        if link is None or link.name != name:
            info = _info.get(creator)
            link = Creator(task_id(creator), name, info[1] if info else None, info[2] if info else None, _weak(creator))
            try:
                _as_creator[creator] = link
            except TypeError:
                pass
    try:
        _info[task] = (next(_ids), where, link)
    except TypeError:
        pass


def record_wake(task, wake):
    """What last woke a task through a primitive (ownership.Wake), kept with its other facts."""
    info = _info.get(task)
    if info is None:
        task_id(task)  # a task made without loop.create_task gets its id now
        info = _info.get(task)
    if info is not None:
        _info[task] = info[:3] + (wake,)


def last_wake(task):
    info = _info.get(task)
    return info[3] if info is not None and len(info) > 3 else None


def _weak(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return None


def task_id(task):
    """A small stable id for a task (its DAP thread id) or a future."""
    try:
        return _info[task][0]
    except KeyError:
        info = _info[task] = (next(_ids), None, None)
        return info[0]
    except TypeError:
        return 0


def created_at(task):
    info = _info.get(task)
    return info[1] if info is not None else None


def creators(task, limit=16):
    """[Creator] of a task: the task that created it, then that task's creator, and so on."""
    info = _info.get(task)
    link, chain = info[2] if info is not None else None, []
    while link is not None and len(chain) < limit:
        chain.append(link)
        link = link.creator
    return chain


def task_by_id(ident, tasks_only=True):
    """The live task (or, with tasks_only=False, future) with this id; a scan, for rare requests."""
    for obj, info in list(_info.items()):
        if info[0] == ident:
            return obj if not tasks_only or is_task(obj) else None
    return None


def task_of_handle(handle):
    """The Task a ready handle steps or wakes, or None for a plain callback."""
    owner = internals.handle_owner(handle)
    return owner if is_task(owner) else None


def task_name(task):
    """The name asyncio keeps for the task; a Task subclass's own get_name() is never called."""
    try:
        return internals.task_name(task)
    except Exception:  # a Task subclass that never ran Task.__init__, a task-like object of the program's
        return "Task-%d" % task_id(task)


def how_task_ended(task):
    """'cancelled', 'failed' or 'done', for a task that is done; read without side effects."""
    if task.cancelled():
        return "cancelled"
    return "failed" if internals.future_exception(task) is not None else "done"


def pending_tasks(loop):
    """asyncio.all_tasks(loop), from any thread: copying the task set fails while another thread
    adds to it ("set changed size"), so it is retried, as asyncio itself does."""
    for _attempt in range(100):
        try:
            return internals.all_tasks(loop)
        except RuntimeError:
            continue
    return set()


def live_tasks():
    """The pending tasks of every loop Loopscope knows (a scan, for rare requests)."""
    return [task for state in loop_states() for task in pending_tasks(state.loop)]


FINISHED_KEPT = 64


class FinishedTasks:
    """The most recently finished tasks that are still alive, so the views can show how they ended.
    Weak references only: keeping a failed task alive would delay or lose asyncio's
    "Task exception was never retrieved" report."""

    def __init__(self):
        self._tasks = collections.OrderedDict()  # task id -> weakref to the task

    def add(self, task):
        ident = task_id(task)
        self._tasks.pop(ident, None)
        self._tasks[ident] = weakref.ref(task)
        while len(self._tasks) > FINISHED_KEPT:
            self._tasks.popitem(last=False)

    def of_loop(self, loop):
        alive = (ref() for ref in reversed(list(self._tasks.values())))
        return [t for t in alive if t is not None and internals.future_loop(t) is loop]


def state_for_thread(thread_id):
    """The loop behind a DAP thread id: a loop's own id, or a task's."""
    for state in loop_states():
        if state.id == thread_id:
            return state
    task = task_by_id(thread_id) if thread_id is not None else None
    if task is not None:
        return state_of(internals.future_loop(task))
    return None
