"""What a held loop holds, as plain dicts (protocol.json: LoopSnapshot, TaskSwitch).

Tasks with their state, location, what they await and who awaits them; the futures tasks wait
on; the ready queue; timers; watched file descriptors; cycles in the await graph. Runs on the held
loop's thread. The views ask for it at every stop, unprompted, so it runs none of the program's
code: values show through passive_repr, futures by their type and state.
"""

import asyncio
import collections

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .inspection import passive_repr
from .instrument import callback_name


def _location(where):
    return {"path": frame_tools.absolute(where[0]), "line": where[1]} if where else None


def _attribute(obj, name):
    """getattr that never raises: odd subclasses (a C Task over a Python Future) raise TypeError."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _referenced_objects(callback):
    """Objects a done-callback holds on to: partial args, a bound method's owner, closure cells."""
    seen = []
    func = callback
    for _ in range(3):
        args = _attribute(func, "args")
        if isinstance(args, tuple):
            seen.extend(args)
        inner = _attribute(func, "func")
        if inner is None:
            break
        func = inner
    owner = _attribute(func, "__self__")
    if owner is not None:
        seen.append(owner)
        attributes = _attribute(owner, "__dict__")
        if isinstance(attributes, dict):
            seen.extend(attributes.values())
    closure = _attribute(_attribute(func, "__func__") or func, "__closure__") or ()
    for cell in closure:
        try:
            seen.append(cell.cell_contents)
        except ValueError:
            pass
    return seen


class AwaitGraph:
    """Who waits for whom on one loop, from each task's _fut_waiter and the futures' done-callbacks."""

    def __init__(self, tasks, timers):
        self.waits_on = {}        # task -> the future it is blocked on
        self.awaited_by = collections.defaultdict(list)   # awaited task or future -> [waiting tasks]
        self.sleeping = {}        # future -> timer handle that will resolve it (asyncio.sleep)
        for timer in timers:
            args = internals.handle_args(timer)
            if args and isinstance(args[0], asyncio.Future):
                self.sleeping[args[0]] = timer
        for task in tasks:
            waiter = internals.task_waiter(task)
            if waiter is not None:
                self.waits_on[task] = waiter
                self.awaited_by[waiter].append(task)
        waiting_futures = set(self.awaited_by)
        # A task or future whose done-callback will resolve a future some task waits on is awaited
        # by that task: gather's children, wait(), wait_for() before 3.12, shield(), TaskGroup.
        for awaited in list(tasks) + [f for f in waiting_futures if not registry.is_task(f)]:
            for callback in internals.future_callbacks(awaited):
                for referenced in _referenced_objects(callback):
                    if referenced is not awaited and _hashable(referenced) and referenced in waiting_futures:
                        for waiter_task in self.awaited_by[referenced]:
                            if waiter_task is not awaited and waiter_task not in self.awaited_by[awaited]:
                                self.awaited_by[awaited].append(waiter_task)
        for gathering in waiting_futures:
            for child in internals.gather_children(gathering) or ():
                for waiter_task in self.awaited_by[gathering]:
                    if waiter_task not in self.awaited_by[child]:
                        self.awaited_by[child].append(waiter_task)

    def cycles(self, tasks):
        """Each cycle of tasks that wait for each other, once."""
        edges = collections.defaultdict(list)   # task -> tasks it waits for
        for awaited, waiters in self.awaited_by.items():
            if registry.is_task(awaited):
                for waiter in waiters:
                    if waiter is not awaited:
                        edges[waiter].append(awaited)
        cycles, seen_keys = [], set()
        state = {}

        def visit(task, path):
            state[task] = "active"
            path.append(task)
            for nxt in edges.get(task, ()):
                if state.get(nxt) == "active":
                    cycle = path[path.index(nxt):]
                    key = frozenset(registry.task_id(t) for t in cycle)
                    if key not in seen_keys:
                        seen_keys.add(key)
                        cycles.append([registry.task_id(t) for t in cycle])
                elif nxt not in state:
                    visit(nxt, path)
            path.pop()
            state[task] = "done"

        for task in tasks:
            if task not in state:
                visit(task, [])
        return cycles


def _hashable(value):
    try:
        hash(value)
        return True
    except Exception:
        return False


def _task_state(task, current, ready_tasks):
    if task.done():
        return registry.how_task_ended(task)
    if task is current:
        return "running"
    return "ready" if task in ready_tasks else "waiting"


def _awaiting(task, graph, chain):
    waiter = graph.waits_on.get(task)
    if waiter is None:
        return None
    if registry.is_task(waiter):
        return {"kind": "task", "id": registry.task_id(waiter),
                "description": "task %s" % registry.task_name(waiter)}
    timer = graph.sleeping.get(waiter)
    if timer is not None:
        due = max(timer.when() - internals.timer_loop(timer).time(), 0.0)
        if callback_name(internals.handle_callback(timer)).endswith("_set_result_unless_cancelled"):
            return {"kind": "sleep", "id": registry.task_id(waiter), "description": "sleep, due in %.3f s" % due}
        return {"kind": "future", "id": registry.task_id(waiter),
                "description": "%s, times out in %.3f s" % (describe_future(waiter, chain), due)}
    return {"kind": "future", "id": registry.task_id(waiter), "description": describe_future(waiter, chain)}


def describe_future(future, chain=None):
    """What a future stands for: the library call that made it when the await chain shows one."""
    if chain:
        for coro, frame in reversed(chain):
            if not frame_tools.is_user_file(frame.f_code.co_filename):
                name = frame_tools.coroutine_name(coro)
                if name not in ("sleep", "wait_for", "gather", "shield"):
                    return "%s()" % name
            else:
                break
    children = internals.gather_children(future)
    if children is not None:
        return "gather of %d" % len(children)
    names = [callback_name(cb) for cb in internals.future_callbacks(future)]
    if any("_chain_future" in name for name in names):
        return "result from another thread (run_in_executor or wrap_future)"
    if any(name.endswith("_release_waiter") for name in names) or chain and any(
            frame_tools.coroutine_name(c) == "wait_for" for c, _f in chain):
        return "wait_for"
    state = "cancelled" if future.cancelled() else "done" if future.done() else "pending"
    return "%s (%s)" % (type(future).__qualname__, state)


def task_stack(task):
    chain = frame_tools.await_chain(internals.task_coroutine(task))
    user = [(c, f) for c, f in chain if frame_tools.is_user_file(f.f_code.co_filename)] or chain[-1:]
    stack = []
    for coro, frame in reversed(user):
        where = frame_tools.location(frame)
        stack.append({"name": frame_tools.coroutine_name(coro), "path": where["path"], "line": where["line"]})
    return stack, chain


def snapshot_loop(state, held, finished, clock, max_tasks, held_handle=None, switches=None):
    loop = state.loop
    body = {"id": state.id, "threadId": state.id, "osThread": state.thread_name, "iteration": state.iteration,
            "time": 0.0, "clock": clock, "state": "paused" if held else "running", "ready": [], "timers": [],
            "watched": [], "tasks": [], "tasksTotal": 0, "futures": [], "deadlocks": []}
    if loop is None or loop.is_closed():
        body["state"] = "closed"
        return body
    body["time"] = loop.time()
    if not held:
        return body
    pending = sorted(registry.pending_tasks(loop), key=registry.task_id)
    # Before a handle, the held one has left the ready queue but is the next to run.
    ready_handles = ([held_handle] if held_handle is not None else []) + [
        h for h in internals.ready_queue(loop) if not h.cancelled()]
    ready_tasks = {}
    for handle in ready_handles:
        owner = internals.handle_owner(handle)
        entry = {"callback": callback_name(internals.handle_callback(handle))}
        if owner is not None and registry.is_task(owner):
            ready_tasks[owner] = handle
            entry["taskId"] = registry.task_id(owner)
        body["ready"].append(entry)
    timers = sorted((t for t in internals.scheduled_timers(loop) if not t.cancelled()), key=lambda t: t.when())
    graph = AwaitGraph(pending, timers)
    now = loop.time()
    for timer in timers:
        entry = {"when": timer.when(), "dueIn": timer.when() - now,
                 "callback": callback_name(internals.handle_callback(timer))}
        owner = internals.timer_owner(timer)
        args = internals.handle_args(timer)
        if owner is not None and registry.is_task(owner):
            entry["taskId"] = registry.task_id(owner)
        elif args and args[0] in graph.awaited_by:
            waiting = graph.awaited_by[args[0]]
            if waiting:
                entry["taskId"] = registry.task_id(waiting[0])
        body["timers"].append(entry)
    body["watched"] = _watched_fds(loop)
    current = internals.current_task(loop)
    steps, ended = switches.steps() if switches is not None else ({}, [])
    for task in ended:
        finished.add(task)
    listed = pending[:max_tasks] + [t for t in finished.of_loop(loop) if t not in graph.waits_on][:max(0, max_tasks - len(pending))]
    for task in listed:
        body["tasks"].append(_task_snapshot(task, current, ready_tasks, graph, steps))
    body["tasksTotal"] = len(pending)
    body["futures"] = _futures(graph, set(listed), max_tasks)
    body["deadlocks"] = graph.cycles(pending)
    return body


def _task_snapshot(task, current, ready_tasks, graph, steps):
    stack, chain = task_stack(task) if not task.done() else ([], [])
    entry = {"id": registry.task_id(task), "name": registry.task_name(task),
             "coroutine": frame_tools.coroutine_name(internals.task_coroutine(task)),
             "state": _task_state(task, current, ready_tasks),
             "awaitedBy": [registry.task_id(t) for t in graph.awaited_by.get(task, ())],
             "steps": steps.get(registry.task_id(task), 0), "stack": stack}
    if stack:
        entry["location"] = {"path": stack[0]["path"], "line": stack[0]["line"]}
    awaiting = _awaiting(task, graph, chain) if not task.done() else None
    if awaiting is not None:
        entry["awaiting"] = awaiting
    where = _location(registry.created_at(task))
    if where is not None:
        entry["createdAt"] = where
    if entry["state"] == "done":
        entry["result"] = passive_repr(internals.future_result(task), 200)
    elif entry["state"] == "failed":
        entry["exception"] = passive_repr(internals.future_exception(task), 200)
    return entry


def _futures(graph, listed, limit):
    """Pending non-task futures that listed tasks wait on (at most limit of them)."""
    futures = []
    for future, waiters in graph.awaited_by.items():
        if len(futures) >= limit:
            break
        if registry.is_task(future) or not waiters or future in graph.sleeping:
            continue
        if not any(waiter in listed for waiter in waiters):
            continue
        chain = frame_tools.await_chain(internals.task_coroutine(waiters[0]))
        state = "cancelled" if future.cancelled() else ("done" if future.done() else "pending")
        futures.append({"id": registry.task_id(future), "description": describe_future(future, chain), "state": state,
                        "awaitedBy": [registry.task_id(t) for t in waiters],
                        "callbacks": [_describe_callback(cb) for cb in internals.future_callbacks(future)]})
    return futures


def _describe_callback(callback):
    owner = getattr(callback, "__self__", None)
    if owner is not None and registry.is_task(owner):
        return "wake task %s" % registry.task_name(owner)
    return callback_name(callback)


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
