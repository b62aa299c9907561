"""Deadlocks of every kind (issue #16), as protocol.json's Deadlock.

- A cycle: tasks that each wait for the next, through a task they await, a Lock whose recorded
  owner is the next, or a Semaphore all of whose recorded holders wait in the same cycle
  (ownership.py records owners). Found over the tasks that wait on tasks or on owned primitives
  only, so its cost follows the locks, not the tasks.
- An idle loop: waiting tasks on a loop about to wait in select() for ever: nothing ready, no
  timer, no file descriptor but its own wake-up pipe, no signal handler, no executor job and no
  other thread that could call into it. Checked at every iteration that would wait (instrument's
  loop_idle moment), cheaply: it stops at the first sign of life.
- A lost wake-up: a plain future a task waits on that nothing outside its waiters refers to, so
  nothing can ever complete it (gc's referrers, one pass for all of a stop's futures).
- A lock-order inversion, reported by ownership.py as it is seen.
"""

import collections
import gc
import sys
import threading

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .ownership import describe_primitive, ownership as records

MAX_LISTED = 50  # tasks listed in one Deadlock; `total` counts them all


def cycles(view, task_ref):
    """[Deadlock] for the cycles among one held loop's waiting tasks."""
    graph, pending = view.graph, view.index.pending
    edges = {}  # task -> [(next task, why, any_of)]
    for task, waiter in graph.waits_on.items():
        if registry.is_task(waiter) and not waiter.done():
            edges.setdefault(task, []).append((waiter, "awaits", None))
    by_id = None
    for kind, table in (("Lock", records.lock_owner), ("Semaphore", records.slot_holders)):
        for primitive, marks in table.items():
            marks = marks if isinstance(marks, list) else [marks]
            waiters = [w for w in internals.primitive_waiters(primitive) if not w.done()]
            if not marks or not waiters:
                continue
            if by_id is None:
                by_id = {registry.task_id(task): task for task in pending}
            holders = [by_id.get(mark.task_id) for mark in marks]
            if any(holder is None for holder in holders):
                continue  # a holder that is not a pending task of this loop: it can still release
            what = "waits for %s held by %s" % (describe_primitive(primitive, records),
                                                 ", ".join(registry.task_name(h) for h in holders))
            group = holders if len(holders) > 1 else None
            for future in waiters:
                for task in graph.waiters_of(future):
                    for holder in holders:
                        edges.setdefault(task, []).append((holder, what, group))
    found = []
    for component in _strong_components(edges):
        if not _closed(component, edges):
            continue
        kind = "awaitCycle" if all(why == "awaits" for task in component for _n, why, _g in edges.get(task, ())
                                   if _n in component) else "lockCycle"
        found.append(_deadlock(kind, _cycle_text(component, edges), component, task_ref))
    return found


def _closed(component, edges):
    """A component is a deadlock unless a task in it waits on a semaphore some holder of which is
    outside it (that holder may release a slot)."""
    for task in component:
        for _next, _why, group in edges.get(task, ()):
            if group is not None and any(holder not in component for holder in group):
                return False
    return True


def _strong_components(edges):
    """Tarjan's strongly connected components of size > 1, or a task waiting on itself."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root):
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for following, _why, _group in successors:
                if following not in index:
                    index[following] = low[following] = counter[0]
                    counter[0] += 1
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(edges.get(following, ()))))
                    advanced = True
                    break
                if following in on_stack:
                    low[node] = min(low[node], index[following])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member is node:
                        break
                looped = len(component) > 1 or any(n is node for n, _w, _g in edges.get(node, ()))
                if looped:
                    found.append(list(reversed(component)))

    for task in list(edges):
        if task not in index:
            visit(task)
    return found


def _cycle_text(component, edges):
    """'a waits for Lock made at app.py:3 held by b → b awaits a'."""
    members = set(component)
    start = min(component, key=registry.task_id)
    parts, task, seen = [], start, set()
    while task not in seen:
        seen.add(task)
        following = next(((n, why) for n, why, _g in edges.get(task, ()) if n in members), None)
        if following is None:
            break
        parts.append("%s %s" % (registry.task_name(task), following[1] if following[1] != "awaits"
                                else "awaits %s" % registry.task_name(following[0])))
        task = following[0]
    return "; ".join(parts)


def _deadlock(kind, description, tasks, task_ref):
    tasks = sorted(tasks, key=registry.task_id)
    return {"kind": kind, "description": description, "tasks": [task_ref(t) for t in tasks[:MAX_LISTED]],
            "total": len(tasks)}


def running_cycles(state, task_ref):
    """[Deadlock] for cycles among a running loop's tasks, found without a stop: tasks that await
    tasks directly, and tasks waiting on locks whose recorded owner is a task of the cycle. Cheap
    enough to run every second or so (C-speed reads of each task's waiter); the full search, through
    gather, shield and semaphores, runs at stops."""
    loop = state.loop
    if loop is None:
        return []
    tasks = list(registry.pending_tasks(loop))
    edges = {}
    for task, waiter in zip(tasks, internals.task_waiters(tasks)):
        if waiter is not None and registry.is_task(waiter) and not waiter.done():
            edges.setdefault(task, []).append((waiter, "awaits", None))
    for lock, owner in records.lock_owner.items():
        holder = owner.task_ref() if owner.task_ref is not None else None
        if holder is None or holder.done():
            continue
        what = "waits for %s held by %s" % (describe_primitive(lock, records), registry.task_name(holder))
        for future in internals.primitive_waiters(lock):
            if future.done():
                continue
            for callback in internals.future_callbacks(future):
                if internals.is_task_wakeup(callback):
                    edges.setdefault(callback.__self__, []).append((holder, what, None))
    found = []
    for component in _strong_components(edges):
        kind = "awaitCycle" if all(why == "awaits" for task in component for _n, why, _g in edges.get(task, ())
                                   if _n in component) else "lockCycle"
        found.append(_deadlock(kind, _cycle_text(component, edges), component, task_ref))
    return found


# --- the idle loop ----------------------------------------------------------------------------

def idle_deadlock(state, task_ref):
    """The Deadlock of a loop about to wait for ever with tasks waiting, else None. Called on the
    loop's thread when nothing is ready and no timer is scheduled; cheap until every test passes."""
    loop = state.loop
    if loop is None:
        return None
    if internals.watched_fds(loop) != {} or internals.signal_handlers(loop):
        return None  # a file descriptor or a signal may still wake it (or, without a selector, who knows)
    if _other_threads_alive():
        return None
    waiting = [task for task in registry.pending_tasks(loop) if internals.task_waiter(task) is not None]
    if not waiting:
        return None
    description = ("%s would wait for ever: %d task%s wait%s and nothing can wake them — no ready handle, no timer, "
                   "no file descriptor, no executor job, no other thread." % (
                       state.label[0].upper() + state.label[1:], len(waiting), "" if len(waiting) == 1 else "s",
                       "s" if len(waiting) == 1 else ""))
    return _deadlock("idleLoop", description, waiting, task_ref)


def _other_threads_alive():
    """A thread of the program other than this one that could still call into the loop. An idle
    executor worker (blocked taking its next work item) cannot."""
    current = threading.current_thread()
    frames = None
    for thread in threading.enumerate():
        if thread is current or not thread.is_alive():
            continue
        if frames is None:
            frames = sys._current_frames()
        if _idle_worker(frames.get(thread.ident)):
            continue
        return True
    return False


def _idle_worker(frame):
    """True when the thread's innermost frames are a concurrent.futures worker waiting for work."""
    depth = 0
    while frame is not None and depth < 6:
        if frame.f_code.co_name == "_worker" and frame.f_code.co_filename.endswith("thread.py") \
                and "concurrent" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
        depth += 1
    return False


# --- lost wake-ups ----------------------------------------------------------------------------

def lost_wakeups(futures, waiters_of, own=()):
    """The ids of the futures (plain ones tasks wait on) that nothing but their waiters refers to:
    one pass of gc over the heap for all of them. waiters_of(future) -> the tasks waiting on it;
    own: Loopscope's objects that hold the futures (a stop's await graph), whose containers are
    not referrers that count."""
    if not futures:
        return set()
    wanted = {id(f): f for f in futures}
    ours = _containers(list(own) + [futures])  # the waiters' side, and Loopscope's own lists and maps
    for future in futures:
        for task in waiters_of(future):
            ours.add(id(task))
            for coro, frame in frame_tools.await_chain(internals.task_coroutine(task)):
                ours.update((id(coro), id(frame)))
                # What `await future` iterates (the C FutureIter) refers to the future too.
                ours.add(id(getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)))
    referred = dict.fromkeys(wanted, False)
    candidates = gc.get_referrers(*futures)
    ours.update((id(candidates), id(wanted), id(referred), id(sys._getframe())))
    for referrer in candidates:
        if id(referrer) in ours:
            continue
        for referent in gc.get_referents(referrer):
            if id(referent) in wanted and wanted[id(referent)] is referent:
                referred[id(referent)] = True
    del candidates
    return {key for key, seen in referred.items() if not seen}


_CONTAINERS = (dict, list, tuple, set, frozenset, collections.defaultdict, collections.deque)


def _containers(roots, depth=4):
    """The ids of the plain containers reachable from roots (objects' instance dicts included)
    through containers only: never into a task or a future."""
    found, stack = set(), [(root, 0) for root in roots]
    while stack:
        obj, level = stack.pop()
        if id(obj) in found:
            continue
        attributes = internals.instance_dict(obj) if type(obj) not in _CONTAINERS else None
        if attributes is not None and level == 0:
            obj = attributes
        elif type(obj) not in _CONTAINERS:
            continue
        found.add(id(obj))
        if level >= depth:
            continue
        items = list(obj.values()) + list(obj.keys()) if isinstance(obj, dict) else list(obj)
        stack.extend((item, level + 1) for item in items if type(item) in _CONTAINERS)
    return found


def inversions():
    """The lock-order inversions seen so far, as sentences."""
    return list(records.inversions)
