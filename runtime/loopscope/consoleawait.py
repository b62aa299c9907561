"""An expression with `await`, typed in the Debug Console or a watch, run to its end on a held loop.

The loop's thread is blocked inside one of Loopscope's hooks, in the middle of an iteration or
between two, so the loop cannot run it (run_until_complete refuses a running loop, and nesting
_run_once, as nest_asyncio does, runs every task of the program). Instead the held thread drives
the expression's task itself, as a small event loop over the held one's own queues:

- holdOthers (the default): only what the expression needs runs. Its task, the tasks created while
  it runs, the callbacks they schedule, its timers (loop.call_at while it runs) and its sockets
  (readers and writers the loop did not watch before). The program's ready handles are taken out
  of the ready queue and put back in the same order; a program task that becomes ready meanwhile
  (the expression set an Event, say) waits behind them; the program's timers and sockets are left
  where they are. A callback another thread hands the loop (call_soon_threadsafe) runs only if it
  completes a future the expression waits on (run_in_executor, to_thread); the others wait too.
- runLoop: the whole loop runs (asyncio's own _run_once) until the expression is done.

Either way the task that was running when the loop was held is set aside (asyncio allows one
current task per loop) and put back, and the loop clock runs meanwhile (clock.py). When the
expression waits on a task of the program, which is held, it fails at once and says so.
"""

import asyncio
import math
import os
import select
import selectors
import threading
import time

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames as frame_tools
from . import registry
from .awaitgraph import AwaitGraph, referenced_objects
from .snapshot import describe_wait
from .timelimit import TimeLimitExceeded, run_limited
from .vocabulary import ClockMode, ConsoleAwait, StopPlace

TASK_NAME = "Loopscope console"
CANCEL_GRACE = 1.0  # how long a cancelled expression gets to finish its cleanup
_LONGEST_WAIT = 0.1  # a wait in poll() is cut into pieces this long: the deadline is checked between
_monotonic = time.monotonic


class AwaitFailed(LookupError):
    """The awaited expression could not finish; the text says why, for the user."""


def await_on_held_loop(coroutine, where, mode, limit):
    """Run coroutine as a task on the loop held on this thread and return its result (or raise its
    exception); where is the held stop's StopPlace, mode a ConsoleAwait, limit in seconds."""
    loop = internals.get_running_loop()
    if loop is None or registry.state_of(loop) is None or where is None:
        coroutine.close()
        raise AwaitFailed("await works where an event loop is held, and this frame's thread runs no event loop "
                          "of asyncio's: evaluate it without await")
    runner = _RunLoop(loop, where) if mode == ConsoleAwait.RUN_LOOP else _HoldOthers(loop)
    return runner.run(coroutine, limit)


class _Runner:
    """What both modes share: the task, the current task set aside, the clock, the deadline."""

    keeps_time = False

    def __init__(self, loop):
        self.loop = loop
        self.task = None
        self.program_tasks = set()  # the loop's pending tasks when the expression began
        self.limit = 0.0

    def run(self, coroutine, limit):
        loop = self.loop
        started = _monotonic()
        self.limit = limit
        set_aside = internals.leave_current_task(loop)
        clock_tools.clock.console_started()
        failure = None
        try:
            self.program_tasks = set(registry.pending_tasks(loop))
            self.prepare()
            self.task = asyncio.Task(coroutine, loop=loop, name=TASK_NAME)
            failure = self._drive_until(started + limit)
            if not self.task.done():
                failure = self.stop_expression(failure or "the expression ran longer than %g s" % limit)
        finally:
            try:
                self.restore()
            finally:
                clock_tools.clock.console_ended(self.keeps_time)
                internals.enter_task_again(loop, set_aside)
        task = self.task
        if failure is not None:
            _retrieve(task)
            raise AwaitFailed(failure)
        if task.cancelled():
            raise AwaitFailed("the expression was cancelled")
        if isinstance(internals.future_exception(task), TimeLimitExceeded):
            _retrieve(task)
            raise AwaitFailed("the expression ran longer than %g s and was stopped%s" % (limit, self.held_note()))
        return task.result()

    def stop_expression(self, reason):
        """The expression did not finish (reason says why): cancel it where it awaits, unless it waits
        on a task of the program (its own code might cancel that task in turn, as wait_for does):
        then it is left waiting, to finish after that task when the program resumes. Returns what
        to tell the user."""
        task = self.task
        timed_out = reason.startswith("the expression ran longer")
        blocker = self.blocking_task()
        if blocker is not None:
            self._leave_pending()
            return ("%s%s. It was left waiting rather than cancelled, so that nothing of the program is cancelled "
                    "with it: it goes on after task %s, when the program resumes" % (
                        reason, self.held_note() if timed_out else "", registry.task_name(blocker)))
        self.interrupt()
        self._drive_until(_monotonic() + CANCEL_GRACE)
        if not task.done():
            self._leave_pending()
            return "%s and was cancelled, but had not finished %g s later: it goes on when the program resumes" % (
                reason, CANCEL_GRACE)
        return "%s and was cancelled%s" % (reason, self.held_note() if timed_out else "")

    def _leave_pending(self):
        internals.quiet_if_left_pending(self.task)
        self.task.add_done_callback(_retrieve)

    def blocking_task(self):
        """The first task of the program (held, or not done) that the expression's task waits on,
        directly, through tasks it started, or through what their futures settle; else None."""
        loop, task = self.loop, self.task
        tasks = registry.pending_tasks(loop)
        graph = AwaitGraph(tasks, [])
        seen, todo, blockers = set(), [task], []
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            for awaited in graph.awaits(current):
                (blockers if awaited in self.program_tasks else todo).append(awaited)
        if not blockers:
            ours = [t for t in tasks if id(t) in seen]
            blockers = [p for p in tasks if p in self.program_tasks and not p.done()
                        and any(w in ours for w in graph.waiters_of(p))]
        return blockers[0] if blockers else None

    def _drive_until(self, deadline):
        """drive(), with what a callback may raise through it turned into the text of a failure."""
        try:
            return self.drive(deadline)
        except TimeLimitExceeded:
            return "the expression ran longer than %g s" % self.limit
        except (SystemExit, KeyboardInterrupt) as error:
            return "the expression raised %s: %s" % (type(error).__name__, error)

    def interrupt(self):
        """Cancel the expression where it awaits, and nothing else: Task.cancel() would cancel what it
        awaits too, a task of the program, say. So its wakeup is taken off the future it waits on
        and called with a cancelled one: CancelledError is raised at its await, and whatever it
        awaited goes on untouched."""
        loop, task = self.loop, self.task
        waiter = internals.task_waiter(task)
        if waiter is not None:
            for callback, context in internals.future_callback_entries(waiter):
                if internals.is_task_wakeup(callback) and getattr(callback, "__self__", None) is task:
                    waiter.remove_done_callback(callback)
                    cancelled = asyncio.Future(loop=loop)
                    cancelled.cancel()
                    loop.call_soon(callback, cancelled, context=context)
                    return
        task.cancel()  # not waiting on anything: the next step raises CancelledError

    def prepare(self):
        pass

    def restore(self):
        pass

    def held_note(self):
        return ""

    def run_handle(self, handle, deadline):
        """One handle, under the time limit; an exception goes where asyncio sends it."""
        try:
            run_limited(max(deadline - _monotonic(), 0.01), internals.call_handle, handle)
        except (TimeLimitExceeded, SystemExit, KeyboardInterrupt):
            raise
        except BaseException as error:
            internals.report_callback_error(self.loop, handle, error)


class _HoldOthers(_Runner):
    def __init__(self, loop):
        _Runner.__init__(self, loop)
        self.saved, self.held_back, self.patched, self.wake_fds = [], [], {}, ()
        self.active = False
        self.ready = internals.ready_queue(loop)

    def prepare(self):
        loop = self.loop
        # Handles are kept as objects, not ids: an id may come back for another handle during the run.
        self.program_io = {h for _key, reader, writer in internals.watched_io(loop) for h in (reader, writer) if h}
        self.timers = []                       # timers the expression made (loop.call_at)
        self.from_elsewhere = set()            # handles other threads handed in meanwhile
        self.thread = threading.get_ident()
        self.progress = 0                      # handles run: what blocks the expression may have changed
        self.blocker_seen_at = None
        self.wake_read, self.wake_write = self.wake_fds = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        self.saved = _drain(self.ready)        # the program's ready handles, in order
        self.active = True
        self._patch("call_at", self._call_at)
        self._patch("call_soon_threadsafe", self._call_soon_threadsafe)

    def _patch(self, name, wrapper):
        """Put wrapper on the loop object itself (the class stays as it is), for the run."""
        instance = vars(self.loop)
        self.patched[name] = (instance.get(name, _ABSENT), getattr(self.loop, name))
        instance[name] = wrapper

    def _call_at(self, when, callback, *args, **kwargs):
        timer = self.patched["call_at"][1](when, callback, *args, **kwargs)
        if self.active and threading.get_ident() == self.thread:
            self.timers.append(timer)
        return timer

    def _call_soon_threadsafe(self, callback, *args, **kwargs):
        handle = self.patched["call_soon_threadsafe"][1](callback, *args, **kwargs)
        if self.active and threading.get_ident() != self.thread:
            self.from_elsewhere.add(handle)
            try:
                os.write(self.wake_write, b"\0")
            except OSError:
                pass  # full (it is woken already) or closed (the run is over)
        return handle

    def restore(self):
        self.active = False
        instance = vars(self.loop)
        for name, (before, _original) in self.patched.items():
            if before is _ABSENT:
                instance.pop(name, None)
            else:
                instance[name] = before
        # The program's handles go back in front, in their order; what the expression left (a task
        # it started, a callback of a library) follows and runs when the program resumes. One call:
        # another thread's call_soon_threadsafe cannot come between.
        self.ready.extendleft(reversed(self.saved + self.held_back))
        self.saved = self.held_back = []
        for fd in self.wake_fds:
            os.close(fd)
        self.wake_fds = ()

    def held_note(self):
        held = len(self.saved) + len(self.held_back)
        tasks = len([t for t in self.program_tasks if not t.done()])
        if not held and not tasks:
            return ""
        return ("; meanwhile the program was held (%s, %s): if the expression needs it, set \"consoleAwait\": "
                "\"runLoop\" in launch.json" % (_count(tasks, "task"), _count(held, "ready handle")))

    def is_ours(self, handle):
        owner = internals.handle_owner(handle)
        if registry.is_task(owner):
            return owner not in self.program_tasks
        if handle in self.from_elsewhere:
            return self._completes_ours(handle)
        return True

    def _completes_ours(self, handle):
        """A callback from another thread serves the expression if it completes a future that one of
        the expression's tasks waits on (directly, or through a future that settles it)."""
        found = list(internals.handle_args(handle)) + referenced_objects(internals.handle_callback(handle))
        for _depth in range(3):
            futures = [f for f in found if isinstance(f, internals.FUTURE_TYPES)]
            if not futures:
                return False
            found = []
            for future in futures:
                for callback in internals.future_callbacks(future):
                    if internals.is_task_wakeup(callback):
                        if getattr(callback, "__self__", None) not in self.program_tasks:
                            return True
                    else:
                        found.extend(referenced_objects(callback))
        return False

    def drive(self, deadline):
        task, loop, ready = self.task, self.loop, self.ready
        while not task.done():
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not self.is_ours(handle):
                    self.held_back.append(handle)
                elif not handle.cancelled():
                    self.progress += 1
                    self.run_handle(handle, deadline)
                if task.done():
                    return None
            if _monotonic() >= deadline:
                return None
            self._take_due_timers()
            if ready:
                self._poll(0)
                continue
            waiting = self._next_timer()
            ours = self._our_io()
            # Nothing of the expression can run before the time limit (no socket of its own, no
            # timer due by then): if it waits on a task of the program, that is said at once.
            if not ours and (waiting is None or waiting - loop.time() >= deadline - _monotonic()) \
                    and self.blocker_seen_at != self.progress:
                self.blocker_seen_at = self.progress  # worked out again only after something ran
                blocker = self._held_task_blocking()
                if blocker is not None:
                    return blocker
            if waiting is not None and not ours and clock_tools.clock.mode == ClockMode.VIRTUAL \
                    and math.isfinite(waiting):
                clock_tools.clock.console_jump(waiting - loop.time())
                continue
            timeout = deadline - _monotonic()
            if waiting is not None:
                timeout = min(timeout, waiting - loop.time())
            self._poll(max(0.0, min(timeout, _LONGEST_WAIT)), ours)
        return None

    def _take_due_timers(self):
        """The expression's timers that are due join the ready queue, in the order they are due, as
        _run_once moves them; cancelled ones leave the heap."""
        loop = self.loop
        end = loop.time() + internals.clock_resolution(loop)
        due, pending = [], []
        for timer in self.timers:
            if timer.cancelled():
                internals.take_timer(loop, timer)
            elif timer.when() <= end:
                if internals.take_timer(loop, timer):
                    due.append(timer)
            else:
                pending.append(timer)
        self.timers = pending
        due.sort(key=lambda t: t.when())
        self.ready.extend(due)

    def _next_timer(self):
        live = [t.when() for t in self.timers if not t.cancelled()]
        return min(live) if live else None

    def _our_io(self):
        """{fd: (key, events)} of the sockets and pipes the expression's code made the loop watch."""
        ours = {}
        for key, reader, writer in internals.watched_io(self.loop):
            events = 0
            if reader is not None and reader not in self.program_io:
                events |= selectors.EVENT_READ
            if writer is not None and writer not in self.program_io:
                events |= selectors.EVENT_WRITE
            if events:
                ours[key.fd] = (key, events)
        return ours

    def _poll(self, timeout, ours=None):
        """Wait up to timeout for the expression's file descriptors, or for another thread's callback."""
        ours = self._our_io() if ours is None else ours
        ready_fds = _wait_for(ours, self.wake_read, timeout)
        try:
            while os.read(self.wake_read, 512):
                pass
        except OSError:
            pass
        events = []
        for fd, mask in ready_fds:
            key, wanted = ours.get(fd, (None, 0))
            if key is not None and mask & wanted:
                events.append((key, mask & wanted))
        if events:
            internals.process_io(self.loop, events)

    def _held_task_blocking(self):
        """Nothing of the expression can run, and nothing it waits on is in flight: if it waits on a
        task of the program (held), the sentence that says so; else None (another thread may still
        complete what it waits on: it waits until the deadline)."""
        if _in_flight_elsewhere(self.task):
            return None
        blocker = self.blocking_task()
        if blocker is None:
            return None
        place = frame_tools.resume_site(blocker)[0]
        at = " at %s:%d" % (os.path.basename(place[0]), place[1]) if place is not None else ""
        if internals.task_waiter(blocker) is not None:
            state = "suspended%s, waiting for %s" % (at, describe_wait(blocker))
        elif frame_tools.has_started(blocker):
            state = "ready to resume%s" % at
        else:
            state = "not started yet"
        return ("the expression waits on task %s (%s, %s), which is held with the rest of the program: set "
                "\"consoleAwait\": \"runLoop\" in launch.json to let the program's other tasks run while the Debug "
                "Console awaits" % (registry.task_name(blocker),
                                    frame_tools.coroutine_name(internals.task_coroutine(blocker)), state))


class _RunLoop(_Runner):
    keeps_time = True

    def __init__(self, loop, where):
        _Runner.__init__(self, loop)
        self.where = where
        self.ready = internals.ready_queue(loop)
        self.consumed = self.iterations = 0

    def prepare(self):
        self.consumed = len(self.ready)

    def drive(self, deadline):
        loop, task = self.loop, self.task
        state = registry.state_of(loop)
        while not task.done() and _monotonic() < deadline:
            # A timer that wakes select() in time to look at the deadline; cancelled at once after.
            alarm = loop.call_at(loop.time() + _LONGEST_WAIT, _nothing)
            if clock_tools.clock.mode == ClockMode.VIRTUAL and state is not None:
                clock_tools.autojump(loop, state)
            try:
                run_limited(max(deadline - _monotonic(), 0.01), _RUN_ONCE, loop)
            finally:
                alarm.cancel()
            self.iterations += 1
        return None

    def restore(self):
        # Held inside an iteration, _run_once below the hold goes on taking the handles it counted
        # when the iteration began, which the iterations run here took already: cancelled
        # placeholders stand in for them (a cancelled handle is skipped).
        if self.where != StopPlace.ITERATION and self.iterations:
            self.ready.extendleft(_placeholder(self.loop) for _ in range(self.consumed))


_RUN_ONCE = internals.ORIGINALS["run_once"]
_ABSENT = object()


def _nothing():
    pass


def _count(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def _placeholder(loop):
    handle = asyncio.Handle(_nothing, (), loop)
    handle.cancel()
    return handle


def _drain(ready):
    """Take every handle out of the ready queue, one at a time (another thread may be appending)."""
    taken = []
    while ready:
        taken.append(ready.popleft())
    return taken


def _retrieve(task):
    """Mark a failed or abandoned expression's exception as seen: it was reported to the user, and
    asyncio must not print "Task exception was never retrieved" into the program's stderr."""
    if task is not None and task.done() and not task.cancelled():
        task.exception()


def _in_flight_elsewhere(task):
    """The expression's task waits on a future that another thread will complete (run_in_executor,
    to_thread, wrap_future): asyncio chains those with _chain_future's callbacks."""
    todo, seen = [task], set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        waiter = internals.task_waiter(current)
        if waiter is None:
            continue
        names = [getattr(cb, "__qualname__", "") or "" for cb in internals.future_callbacks(waiter)]
        if any("_chain_future" in name for name in names):
            return True
        if registry.is_task(waiter):
            todo.append(waiter)
        for child in internals.gather_children(waiter) or ():
            if registry.is_task(child):
                todo.append(child)
    return False


def _wait_for(ours, wake_fd, timeout):
    """[(fd, selectors mask)] of ours ({fd: (key, events)}) ready within timeout seconds; wake_fd
    cuts the wait short."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(wake_fd, select.POLLIN)
        for fd, (_key, events) in ours.items():
            poller.register(fd, (select.POLLIN if events & selectors.EVENT_READ else 0)
                            | (select.POLLOUT if events & selectors.EVENT_WRITE else 0))
        try:
            found = poller.poll(timeout * 1000.0)
        except InterruptedError:
            return []
        result = []
        for fd, flags in found:
            if fd == wake_fd:
                continue
            mask = 0
            if flags & (select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                mask |= selectors.EVENT_READ
            if flags & (select.POLLOUT | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                mask |= selectors.EVENT_WRITE
            result.append((fd, mask))
        return result
    readers = [fd for fd, (_k, events) in ours.items() if events & selectors.EVENT_READ] + [wake_fd]
    writers = [fd for fd, (_k, events) in ours.items() if events & selectors.EVENT_WRITE]
    readable, writable, _ = select.select(readers, writers, [], timeout)
    masks = {}
    for fd in readable:
        if fd != wake_fd:
            masks[fd] = masks.get(fd, 0) | selectors.EVENT_READ
    for fd in writable:
        masks[fd] = masks.get(fd, 0) | selectors.EVENT_WRITE
    return list(masks.items())
