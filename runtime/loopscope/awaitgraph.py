"""Who waits for whom on one loop: each task's _fut_waiter, and what the futures' done-callbacks
resolve (gather's children, wait, wait_for, shield, TaskGroup), followed through plain futures.

Built once per stop and loop, for every pending task, so it must stay cheap at 100,000 tasks: the
per-task reads are C-level maps, a task's wakeup callback is recognised by its type before its
referents are read, and the waiters of an awaitable are worked out only when asked for.
"""

import asyncio
import collections

from . import asyncio_internals as internals
from . import registry


def _attribute(obj, name):
    """getattr that never raises: odd subclasses (a C Task over a Python Future) raise TypeError."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def referenced_objects(callback):
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
    def __init__(self, tasks, timers):
        tasks = list(tasks)
        self.sleeping = {}        # future -> timer handle that will resolve it (asyncio.sleep)
        for timer in timers:
            args = internals.handle_args(timer)
            if args and isinstance(args[0], asyncio.Future):
                self.sleeping[args[0]] = timer
        self.waits_on = {}        # task -> the future it is blocked on
        self._blocked_on = collections.defaultdict(list)  # awaitable -> the tasks whose _fut_waiter it is
        for task, waiter in zip(tasks, internals.task_waiters(tasks)):
            if waiter is not None:
                self.waits_on[task] = waiter
                self._blocked_on[waiter].append(task)
        self._settles = _settles(tasks + [f for f in self._blocked_on if not registry.is_task(f)])
        self._waiters = {}

    def waiters_of(self, awaited):
        """The tasks waiting for awaited: blocked on it, or on a future its completion settles,
        transitively; in order."""
        key = id(awaited)
        found = self._waiters.get(key)
        if found is None:
            found = self._waiters[key] = _reachable_waiters(awaited, self._blocked_on, self._settles)
        return found

    def awaited(self):
        """Every task or future some task waits for (directly, or through what it settles)."""
        return [a for a in set(self._blocked_on) | set(self._settles) if self.waiters_of(a)]

    def awaits(self, task):
        """The tasks this task waits for: the one it awaits, or a gather's children it awaits."""
        waiter = self.waits_on.get(task)
        if waiter is None:
            return []
        if registry.is_task(waiter):
            return [waiter]
        return [child for child in internals.gather_children(waiter) or () if registry.is_task(child)]

    def cycles(self):
        """Each cycle of tasks that wait for each other, once, as lists of tasks."""
        edges = collections.defaultdict(list)   # task -> tasks it waits for
        for awaited in self.awaited():
            if registry.is_task(awaited):
                for waiter in self.waiters_of(awaited):
                    if waiter is not awaited:
                        edges[waiter].append(awaited)
        cycles, seen_keys, state = [], set(), {}

        def visit(task, path):
            state[task] = "active"
            path.append(task)
            for nxt in edges.get(task, ()):
                if state.get(nxt) == "active":
                    cycle = path[path.index(nxt):]
                    key = frozenset(id(t) for t in cycle)
                    if key not in seen_keys:
                        seen_keys.add(key)
                        cycles.append(list(cycle))
                elif nxt not in state:
                    visit(nxt, path)
            path.pop()
            state[task] = "done"

        for task in list(edges):
            if task not in state:
                visit(task, [])
        return cycles


def _settles(start):
    """awaitable -> the plain futures its completion resolves, found from the done-callbacks
    (their partial arguments, bound owners and closure cells) and a gather's children; followed
    transitively, since a future found this way may resolve another (wait_for(gather(...)) on
    3.11: a child settles the gather, which releases wait_for's waiter). Tasks are never settled
    by others: a callback that wakes a task does not complete it, and is passed by unread."""
    settles = collections.defaultdict(list)
    seen, todo = set(), list(start)
    while todo:
        awaited = todo.pop()
        if id(awaited) in seen:
            continue
        seen.add(id(awaited))
        found = []
        for callback in internals.future_callbacks(awaited):
            if not internals.is_task_wakeup(callback):
                found.extend(referenced_objects(callback))
        for child in internals.gather_children(awaited) or ():
            if awaited not in settles[child]:
                settles[child].append(awaited)
            todo.append(child)
        for referenced in found:
            if referenced is awaited or not isinstance(referenced, internals.FUTURE_TYPES) \
                    or registry.is_task(referenced) or not _hashable(referenced):
                continue
            if referenced not in settles[awaited]:
                settles[awaited].append(referenced)
            todo.append(referenced)
    return settles


def _reachable_waiters(awaited, blocked_on, settles):
    waiters, seen, todo = [], {id(awaited)}, [awaited]
    while todo:
        current = todo.pop(0)
        for task in blocked_on.get(current, ()):
            if task is not awaited and task not in waiters:
                waiters.append(task)
        for settled in settles.get(current, ()):
            if id(settled) not in seen:
                seen.add(id(settled))
                todo.append(settled)
    return waiters


def _hashable(value):
    try:
        hash(value)
        return True
    except Exception:
        return False
