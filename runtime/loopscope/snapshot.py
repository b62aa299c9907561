"""What a held loop holds, as plain dicts (protocol.json: LoopSnapshot, TaskSwitch).

Tasks with their state, location, what they await and who awaits them; the futures tasks wait
on; the ready queue; timers; watched file descriptors; cycles in the await graph. Runs on the held
loop's thread. The views ask for it at every stop, unprompted, so it runs none of the program's
code: values show through passive_repr, futures by their type and state.
"""

import asyncio
import math
import os

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import deadlocks as deadlock_tools
from . import frames as frame_tools
from . import registry
from .awaitgraph import AwaitGraph
from .blockers import Blockers, actor, describe_future
from .inspection import passive_repr
from .instrument import callback_name
from .names import Holders
from .taskindex import TaskIndex


def _location(where):
    return {"path": frame_tools.absolute(where[0]), "line": where[1]} if where else None


def task_ref(task, index=None):
    """TaskRef (protocol.json): enough of a task for a view to name it and show where it is
    without finding it."""
    state = index.state(task) if index is not None else (registry.how_task_ended(task) if task.done() else "waiting")
    ref = {"id": registry.task_id(task), "name": registry.task_name(task), "state": state}
    if not task.done():
        place = frame_tools.resume_site(task)[0]
        if place is not None:
            ref["location"] = _location(place)
    return ref


def describe_wait(task):
    """What a pending task waits for, in the words of its Asyncio Tasks row ('Queue.get()',
    'sleep, due in 0.500 s'); worked out for this task alone."""
    loop = internals.future_loop(task)
    timers = [t for t in internals.scheduled_timers(loop) if not t.cancelled()] if loop is not None else []
    chain = frame_tools.await_chain(internals.task_coroutine(task))
    awaiting = _awaiting(task, AwaitGraph([task], timers), chain)
    return awaiting["description"] if awaiting is not None else "nothing"


def _awaiting(task, graph, chain):
    waiter = graph.waits_on.get(task)
    if waiter is None:
        return None
    if registry.is_task(waiter):
        return {"kind": "task", "id": registry.task_id(waiter),
                "description": "task %s" % registry.task_name(waiter)}
    timer = graph.sleeping.get(waiter)
    if timer is not None:
        due = timer.when() - clock_tools.peek(internals.timer_loop(timer))
        never = math.isinf(due) and due > 0  # asyncio.sleep(math.inf)
        if callback_name(internals.handle_callback(timer)).endswith("_set_result_unless_cancelled"):
            return {"kind": "sleep", "id": registry.task_id(waiter),
                    "description": "sleep, forever" if never else "sleep, due in %.3f s" % _seconds(due)}
        return {"kind": "future", "id": registry.task_id(waiter),
                "description": "%s, %s" % (describe_future(waiter, chain), "never times out" if never
                                           else "times out in %.3f s" % _seconds(due))}
    return {"kind": "future", "id": registry.task_id(waiter), "description": describe_future(waiter, chain)}


def _seconds(due):
    """How long until a timer is due, for a description: never below 0 (a late timer is due now)."""
    return max(due, 0.0) if math.isfinite(due) else 0.0


def task_stack(task):
    chain = frame_tools.await_chain(internals.task_coroutine(task))
    user = [(c, f) for c, f in chain if frame_tools.is_user_file(f.f_code.co_filename)] or chain[-1:]
    stack = []
    for coro, frame in reversed(user):
        where = frame_tools.location(frame)
        stack.append({"name": frame_tools.coroutine_name(coro), "path": where["path"], "line": where["line"]})
    return stack, chain


class LoopView:
    """One held loop at one stop: its task index and await graph, made once and shared by the
    snapshot and every page of tasks the views ask for until the program resumes."""

    def __init__(self, state, held_handle, finished):
        loop = state.loop
        self.state = state
        self.index = TaskIndex(loop, held_handle, finished)
        self.timers = sorted((t for t in internals.scheduled_timers(loop) if not t.cancelled()), key=lambda t: t.when())
        self.graph = AwaitGraph(self.index.pending, self.timers)
        self.blockers = Blockers(loop, self.graph, lambda task: task_ref(task, self.index))
        self.index.blocker_of = self.blockers.of
        self.stats_of = lambda task: None  # task -> StepStats (protocol.json): the debugger sets it


def snapshot_loop(state, view, clock, max_tasks, switches=None, held_at=None, max_futures=500):
    """LoopSnapshot (protocol.json) of one loop; view is its LoopView when the loop is held, else
    None, and held_at the StopPlace it is held at."""
    loop = state.loop
    body = {"id": state.id, "threadId": state.id, "osThread": state.thread_name, "iteration": state.iteration,
            "time": 0.0, "clock": clock, "state": "paused" if view is not None else "running", "ready": [],
            "timers": [], "watched": [], "tasks": [], "tasksTotal": 0, "taskCounts": {}, "futures": [],
            "futuresTotal": 0, "deadlocks": []}
    if loop is None or loop.is_closed():
        body["state"] = "closed"
        return body
    body["time"] = clock_tools.peek(loop)
    if view is None:
        return body
    if held_at is not None:
        body["heldAt"] = held_at
    index, graph = view.index, view.graph
    for handle in index.ready_handles:
        owner = internals.handle_owner(handle)
        entry = {"callback": callback_name(internals.handle_callback(handle))}
        if owner is not None and registry.is_task(owner):
            entry["taskId"], entry["taskName"] = registry.task_id(owner), registry.task_name(owner)
        body["ready"].append(entry)
    now = clock_tools.peek(loop)
    for timer in view.timers:
        entry = {"callback": callback_name(internals.handle_callback(timer))}
        when = timer.when()
        if math.isfinite(when - now):
            entry["when"], entry["dueIn"] = when, when - now
        elif when > now:
            entry["never"] = True  # at +infinity (asyncio.sleep(math.inf)): JSON has no number for it
        task = _timer_task(timer, graph)
        if task is not None:
            entry["taskId"], entry["taskName"] = registry.task_id(task), registry.task_name(task)
        body["timers"].append(entry)
    body["watched"] = _watched_fds(loop)
    steps, ended = switches.steps() if switches is not None else ({}, [])
    listed = index.pending[:max_tasks] + index.finished[:max(0, max_tasks - len(index.pending))]
    # A finished task that a listed task still waits on (its wakeup not run yet) is listed too.
    shown = set(listed)
    for task in list(listed):
        awaited = graph.waits_on.get(task)
        if awaited is not None and registry.is_task(awaited) and awaited not in shown:
            shown.add(awaited)
            listed.append(awaited)
    body["tasks"] = [task_snapshot(task, view, steps) for task in listed]
    body["tasksTotal"] = len(index.pending)
    body["taskCounts"] = index.counts()
    body["futures"], body["futuresTotal"], lost = _futures(view, max_futures)
    body["deadlocks"] = _deadlocks(state, view, lost)
    return body


def _timer_task(timer, graph):
    """The task a timer belongs to: its callback's owner (asyncio.timeout), or the task that
    sleeps on the future it resolves."""
    owner = internals.timer_owner(timer)
    if owner is not None and registry.is_task(owner):
        return owner
    args = internals.handle_args(timer)
    if args and isinstance(args[0], asyncio.Future):
        waiting = graph.waiters_of(args[0])
        if waiting:
            return waiting[0]
    return None


def task_page(view, by, text, group, start, count, steps, ids=None, sort_key=None):
    """The tasks request (protocol.json): the groups of matching tasks, one page of a group (in
    id order, or sorted over the whole group by sort_key), or the tasks with these ids."""
    index = view.index
    matching = index.groups(by, text)
    body = {"total": len(index.tasks), "matching": sum(n for _key, _label, n in matching)}
    if ids is not None:
        found = [registry.task_by_id(ident) for ident in ids]
        body["tasks"] = [task_snapshot(task, view, steps) for task in found if task is not None]
        return body
    if group is None:
        body["groups"] = [{"key": key, "label": label, "count": n} for key, label, n in matching]
        return body
    members = index.members(by, text, group)
    if sort_key is not None:
        members = sorted(members, key=sort_key)  # stable: ties keep id order
    body["groupTotal"] = len(members)
    body["tasks"] = [task_snapshot(task, view, steps) for task in members[start:start + count]]
    return body


def task_snapshot(task, view, steps):
    """TaskSnapshot (protocol.json)."""
    index, graph = view.index, view.graph
    stack, chain = task_stack(task) if not task.done() else ([], [])
    state = index.state(task)
    entry = {"id": registry.task_id(task), "name": registry.task_name(task),
             "coroutine": frame_tools.coroutine_name(internals.task_coroutine(task)), "state": state,
             "awaitedBy": [task_ref(t, index) for t in graph.waiters_of(task)],
             "awaits": [task_ref(t, index) for t in graph.awaits(task)],
             "steps": steps.get(registry.task_id(task), 0), "stack": stack}
    if stack:
        entry["location"] = {"path": stack[0]["path"], "line": stack[0]["line"]}
    awaiting = _awaiting(task, graph, chain) if not task.done() else None
    if awaiting is not None:
        entry["awaiting"] = awaiting
    if not task.done():
        blocker = view.blockers.of(task, chain)
        if blocker is not None:
            entry["blockedOn"] = blocker
        if internals.task_cancelling(task):
            entry["cancelling"] = True
    woken = registry.last_wake(task)
    if woken is not None:
        entry["wokenBy"] = actor(woken.by, woken.what)
    where = _location(registry.created_at(task))
    if where is not None:
        entry["createdAt"] = where
    creators = registry.creators(task)
    if creators:
        entry["createdBy"] = [_creator(link) for link in creators]
    stats = view.stats_of(task)
    if stats is not None:
        entry["stats"] = stats
    if state == "done":
        entry["result"] = passive_repr(internals.future_result(task), 200)
    elif state == "failed":
        entry["exception"] = passive_repr(internals.future_exception(task), 200)
    return entry


def _creator(link):
    entry = {"taskId": link.id, "taskName": link.name}
    place = _location(link.place)
    if place is not None:
        entry["createdAt"] = place
    return entry


def _futures(view, limit):
    """(FutureSnapshots, how many there are, {id: future} of those nothing can complete): pending
    non-task futures that tasks wait on, other than sleeps (which the waiting task's row says)."""
    graph, index = view.graph, view.index
    listed, total = [], 0
    for future in graph.awaited():
        if registry.is_task(future) or future in graph.sleeping:
            continue
        total += 1
        if len(listed) < limit:
            listed.append(future)
    chains = {}
    for future in listed:
        for task in graph.waiters_of(future):
            if task not in chains:
                chains[task] = frame_tools.await_chain(internals.task_coroutine(task))
    holders = Holders(chains, listed)
    plain = [f for f in listed if not f.done() and view.blockers.leaf(graph.waiters_of(f)[0]) == ("future", f)]
    lost_ids = deadlock_tools.lost_wakeups(plain, graph.waiters_of, (graph, view.blockers, listed)) if plain else set()
    futures, lost = [], {}
    for future in listed:
        waiters = graph.waiters_of(future)
        state = "cancelled" if future.cancelled() else ("done" if future.done() else "pending")
        entry = {"id": registry.task_id(future), "description": describe_future(future, chains[waiters[0]]),
                 "state": state, "awaitedBy": [task_ref(t, index) for t in waiters],
                 "callbacks": [_describe_callback(cb) for cb in internals.future_callbacks(future)],
                 "heldBy": [_holder_ref(holder, index) for holder in holders.of(future)]}
        created = _location(registry.created_at(future))
        if created is not None:
            entry["createdAt"] = created
        if id(future) in lost_ids:
            entry["lostWakeup"] = True
            lost[id(future)] = future
        futures.append(entry)
    futures.sort(key=lambda f: f["id"])
    return futures, total, lost


def _deadlocks(state, view, lost):
    """[Deadlock] of a held loop: cycles, the idle loop, and futures nothing can complete."""
    ref = lambda task: task_ref(task, view.index)
    found = deadlock_tools.cycles(view, ref)
    if not view.index.ready_handles and not view.timers:
        idle = deadlock_tools.idle_deadlock(state, ref)
        if idle is not None:
            found.append(idle)
    for future in lost.values():
        waiters = view.graph.waiters_of(future)
        description = "%s can never complete: nothing but the task%s waiting on it refers to it" % (
            describe_future(future), "" if len(waiters) == 1 else "s")
        found.append({"kind": "lostWakeup", "description": description, "tasks": [ref(t) for t in waiters],
                      "total": len(waiters)})
    return found


def _holder_ref(holder, index):
    """HolderRef (protocol.json)."""
    ref = {"description": holder.description}
    if holder.task is not None:
        ref["task"] = task_ref(holder.task, index)
    return ref


def _describe_callback(callback):
    owner = getattr(callback, "__self__", None)
    if owner is not None and registry.is_task(owner):
        return "wake task %s" % registry.task_name(owner)
    return callback_name(callback)


def what_wakes(loop):
    """What will give an idle loop a handle to run: its next timer, its watched file descriptors."""
    timers = [t for t in internals.scheduled_timers(loop) if not t.cancelled()]
    parts = []
    if timers:
        timer = min(timers, key=lambda t: t.when())
        graph = AwaitGraph(registry.pending_tasks(loop), [timer])
        owner = internals.timer_owner(timer)
        args = internals.handle_args(timer)
        task = owner if registry.is_task(owner) else (next(iter(graph.waiters_of(args[0])), None) if args else None)
        what = callback_name(internals.handle_callback(timer))
        if task is not None:
            kind = "sleep" if what.endswith("_set_result_unless_cancelled") else what
            where = frame_tools.resume_location(task)
            at = " at %s:%d" % (os.path.basename(where["path"]), where["line"]) if where else ""
            what = "%s in task %s%s" % (kind, registry.task_name(task), at)
        due = timer.when() - clock_tools.peek(loop)
        parts.append("the next timer is due in {:,.3f} s ({})".format(max(due, 0.0), what) if math.isfinite(due)
                     else "the next timer is never due (%s)" % what)
    else:
        parts.append("no timer is scheduled")
    watched = _watched_fds(loop)
    parts.append("%d file descriptor%s watched" % (len(watched), " is" if len(watched) == 1 else "s are")
                 if watched else "no file descriptor is watched")
    return "; ".join(parts)


def _watched_fds(loop):
    selector = internals.selector_of(loop)
    if selector is None:
        return []
    own = internals.self_pipe_fd(loop)
    watched = []
    try:
        keys = list(selector.get_map().values())
    except Exception:
        return []
    for key in keys:
        if key.fd == own:
            continue
        reader, writer = key.data if isinstance(key.data, tuple) else (None, None)
        events = []
        if reader is not None:
            events.append("read")
        if writer is not None:
            events.append("write")
        handle = reader or writer
        watched.append({"fd": key.fd, "events": "+".join(events) or "read",
                        "callback": callback_name(internals.handle_callback(handle)) if handle is not None else "?"})
    return watched
