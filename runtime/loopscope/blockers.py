"""What each waiting task is ultimately blocked on (issue #16): the leaf at the end of its await
chain, as an object with identity — a lock, semaphore, event, condition, barrier, queue, stream,
socket, subprocess, executor job, timer, plain future or task — named as the program names it,
with where it was made, who holds it and who last woke a task through it (ownership.py).

The leaf is found from the chain itself: the innermost asyncio frame below the task's own code is
the primitive's method (Lock.acquire, Queue.get, StreamReader._wait_for_data…) and its `self` is
the primitive. The same object is one Blocker (protocol.json), made once per stop whatever the
number of tasks waiting on it. Nothing of the program's runs: state is read from instance dicts.
"""

import asyncio
import os
import selectors
import socket
import subprocess
import sys
import threading

from . import asyncio_internals as internals
from . import clock as clock_tools
from . import frames as frame_tools
from . import registry
from .inspection import frame_locals
from .instrument import callback_name
from .asyncio_internals import instance_dict
from .names import Holders
from .ownership import ownership as records

_BARRIER = getattr(asyncio, "Barrier", None)  # 3.11+
# (class, method names, kind): the primitive is the `self` of the innermost such frame.
_PRIMITIVE_METHODS = [
    (asyncio.Lock, ("acquire",), "lock"),
    (asyncio.Semaphore, ("acquire",), "semaphore"),
    (asyncio.Condition, ("wait", "wait_for"), "condition"),
    (asyncio.Event, ("wait",), "event"),
    (asyncio.Queue, ("get",), "queueGet"),
    (asyncio.Queue, ("put",), "queuePut"),
    (asyncio.Queue, ("join",), "queueJoin"),
    (asyncio.StreamReader, ("_wait_for_data", "read", "readline", "readexactly", "readuntil"), "streamRead"),
    (asyncio.StreamWriter, ("drain",), "streamWrite"),
    (asyncio.subprocess.Process, ("wait", "communicate"), "subprocess"),
] + ([(_BARRIER, ("wait", "_block", "_wait"), "barrier")] if _BARRIER is not None else [])
_SOCKET_METHODS = frozenset(("sock_recv", "sock_recv_into", "sock_recvfrom", "sock_recvfrom_into", "sock_sendall",
                             "sock_sendto", "sock_accept", "sock_connect", "sock_sendfile"))


def _kind_of(frame, own):
    """(kind, primitive) when frame is one of the primitives' waiting methods, else None."""
    name = frame.f_code.co_name
    owner = own.get("self")
    if owner is None:
        return None
    for cls, methods, kind in _PRIMITIVE_METHODS:
        if name in methods and isinstance(owner, cls):
            return kind, owner
    if name in _SOCKET_METHODS and isinstance(owner, internals.BaseEventLoop) and own.get("sock") is not None:
        return "socket", own["sock"]
    if name == "_drain_helper":  # StreamWriter.drain's protocol: the transport it writes to
        transport = internals.transport_of(owner)
        return ("streamWrite", transport) if transport is not None else None
    if name == "_wait" and type(owner).__name__.endswith("SubprocessTransport"):
        return "subprocess", owner
    return None


class Blockers:
    """The blockers of one loop's waiting tasks at one stop (see snapshot.LoopView)."""

    def __init__(self, loop, graph, task_ref):
        self._loop = loop
        self._graph = graph
        self._task_ref = task_ref            # task -> TaskRef
        self._by_object = {}                 # id(primitive or future) -> Blocker
        self._leaves = {}                    # task -> (kind, object) or None
        self._executor_threads = None

    def leaf(self, task, chain=None):
        """(kind, object) the pending task waits on at the end of its chain, or None."""
        if task in self._leaves:
            return self._leaves[task]
        found = self._leaves[task] = self._find(task, chain)
        return found

    def of(self, task, chain=None):
        """The Blocker (protocol.json) of a pending task, or None when it waits on nothing."""
        if chain is None:
            chain = frame_tools.await_chain(internals.task_coroutine(task))
        leaf = self.leaf(task, chain)
        if leaf is None:
            return None
        kind, obj = leaf
        blocker = self._by_object.get(id(obj))
        if blocker is None:
            blocker = self._by_object[id(obj)] = self._describe(kind, obj, task, chain)
        return blocker

    # --- finding the leaf ------------------------------------------------------------------------

    def _find(self, task, chain):
        waiter = self._graph.waits_on.get(task)
        if waiter is None:
            return None
        if chain is None:
            chain = frame_tools.await_chain(internals.task_coroutine(task))
        # Up to 3.11 wait_for waits on a future of its own, released by its timeout: the leaf is
        # what it waits for (from 3.12 the task waits on that directly).
        inner = _wait_for_inner(chain)
        if inner is not None:
            waiter = inner
        if registry.is_task(waiter):
            return "task", waiter
        if waiter in self._graph.sleeping and internals.is_sleep_timer(self._graph.sleeping[waiter]):
            return "timer", waiter
        # The library frames below the task's innermost user frame, outermost first: the call the
        # program made (Barrier.wait, not the Condition inside it) names the leaf.
        library = []
        for _coro, frame in reversed(chain):
            if frame_tools.is_user_file(frame.f_code.co_filename):
                break
            library.append(frame)
        for frame in reversed(library):
            own = dict(item for item in frame_locals(frame) if item[0] in ("self", "sock"))
            found = _kind_of(frame, own)
            if found is not None:
                return found
        source = internals.executor_source(waiter)
        if source is not None:
            return "executor", source
        return "future", waiter

    # --- describing it ---------------------------------------------------------------------------

    def _describe(self, kind, obj, task, chain):
        name = self._name(obj, task, chain) if kind not in ("task", "timer") else None
        blocker = {"kind": kind, "id": _object_id(obj), "description": ""}
        if name:
            blocker["name"] = name
        made = records.made_at.get(obj) or (registry.created_at(obj) if kind == "future" else None)
        if made is not None:
            blocker["createdAt"] = {"path": frame_tools.absolute(made[0]), "line": made[1]}
        getattr(self, "_describe_" + kind)(blocker, obj, name)
        return blocker

    def _name(self, obj, task, chain):
        """How the program names obj: in the waiting task's frames, else in the frames of the
        tasks that created it (a lock made in main and handed to a worker is main's `db_lock`)."""
        chains = {task: chain}
        for creator in registry.creators(task, limit=4):
            alive = creator.ref() if creator.ref is not None else None
            if alive is not None and not alive.done():
                chains[alive] = frame_tools.await_chain(internals.task_coroutine(alive))
        return Holders(chains, [obj], innermost_only=False).name_of(obj)

    def _titled(self, kind_name, name):
        return "%s %s" % (kind_name, name) if name else kind_name

    def _describe_task(self, blocker, task, _name):
        blocker["description"] = "task %s" % registry.task_name(task)
        blocker["owners"] = [self._task_ref(task)]

    def _describe_timer(self, blocker, future, _name):
        timer = self._graph.sleeping[future]
        due = timer.when() - clock_tools.peek(internals.timer_loop(timer))
        blocker["description"] = "sleep, due in %.3f s" % max(due, 0.0) if due < float("inf") else "sleep, forever"

    def _describe_lock(self, blocker, lock, name):
        owner = records.lock_owner.get(lock)
        title = self._titled("Lock", name)
        if owner is not None:
            blocker["description"] = "%s, held by %s" % (title, owner.task_name)
            self._owners(blocker, [owner], "acquired")
        else:
            blocker["description"] = "%s, %s" % (title, "held" if internals.lock_is_locked(lock)
                                                 else "free, waking a waiter")

    def _describe_semaphore(self, blocker, semaphore, name):
        value, bound = internals.semaphore_slots(semaphore)
        title = self._titled(type(semaphore).__name__, name)
        holders = records.slot_holders.get(semaphore) or []
        free = "%d free" % value if bound is None else "%d of %d free" % (max(value, 0), bound)
        blocker["description"] = "%s, %s%s" % (title, free, ", held by %s" % ", ".join(
            h.task_name for h in holders[:5]) + (" +%d more" % (len(holders) - 5) if len(holders) > 5 else "")
            if holders else "")
        self._owners(blocker, holders, "acquired")

    def _describe_condition(self, blocker, condition, name):
        blocker["description"] = "%s, waiting to be notified" % self._titled("Condition", name)

    def _describe_event(self, blocker, event, name):
        blocker["description"] = "%s, %s" % (self._titled("Event", name),
                                             "set" if internals.event_is_set(event) else "not set")
        self._last_actor(blocker, records.last_set.get(event), "set it")

    def _describe_barrier(self, blocker, barrier, name):
        count, parties = internals.barrier_fill(barrier)
        blocker["description"] = "%s, %s of %s waiting" % (self._titled("Barrier", name), count, parties)

    def _queue_fill(self, queue):
        size, maxsize, _unfinished = internals.queue_fill(queue)
        return "%d/%s items" % (size, maxsize if maxsize > 0 else "∞")

    def _describe_queueGet(self, blocker, queue, name):
        blocker["description"] = "%s, get: %s" % (self._titled(type(queue).__name__, name), self._queue_fill(queue))
        self._last_actor(blocker, records.last_put.get(queue), "put into it")

    def _describe_queuePut(self, blocker, queue, name):
        blocker["description"] = "%s, put: full, %s" % (self._titled(type(queue).__name__, name),
                                                        self._queue_fill(queue))

    def _describe_queueJoin(self, blocker, queue, name):
        unfinished = internals.queue_fill(queue)[2]
        blocker["description"] = "%s, join: %d unfinished" % (self._titled(type(queue).__name__, name), unfinished)

    def _describe_streamRead(self, blocker, reader, name):
        blocker["description"] = "%s, reading%s" % (self._titled("StreamReader", name),
                                                    _peer_text(internals.transport_of(reader)))

    def _describe_streamWrite(self, blocker, writer_or_transport, name):
        transport = internals.transport_of(writer_or_transport) or writer_or_transport
        blocker["description"] = "%s, draining%s" % (self._titled("stream", name), _peer_text(transport))

    def _describe_socket(self, blocker, sock, name):
        try:
            fd = socket.socket.fileno(sock)
        except Exception:
            fd = -1
        events = _watched_events(self._loop, fd)
        blocker["description"] = "socket fd %d%s%s" % (fd, _socket_peer(sock), ", waiting until %s" % events
                                                        if events else "")

    def _describe_subprocess(self, blocker, process, name):
        transport = internals.transport_of(process) or process
        pid, popen = internals.subprocess_of(transport)
        args = (instance_dict(popen) or {}).get("args") if isinstance(popen, subprocess.Popen) else None
        command = " ".join(str(a) for a in args) if isinstance(args, (list, tuple)) else (args if isinstance(args, str)
                                                                                         else None)
        blocker["description"] = "subprocess pid %s%s" % (pid, " (%s)" % command[:80] if command else "")

    def _describe_executor(self, blocker, source, name):
        thread, frame = self._executor_thread(source)
        if thread is None:
            blocker["description"] = "executor job, queued" if not source.done() else "executor job, finished"
            return
        blocker["description"] = "executor job on thread %s" % thread.name
        blocker["thread"] = thread.name
        if frame is not None:
            where = frame_tools.location(frame)
            blocker["location"] = {"path": where["path"], "line": where["line"]}
            blocker["description"] += ", in %s() at %s:%d" % (frame.f_code.co_name, os.path.basename(where["path"]),
                                                              where["line"])

    def _describe_future(self, blocker, future, name):
        text = describe_future(future)
        blocker["description"] = "%s %s" % (text, "(%s)" % name) if name and name not in text else text

    # ---------------------------------------------------------------------------------------------

    def _owners(self, blocker, marks, what):
        refs = []
        for mark in marks:
            task = registry.task_by_id(mark.task_id) if mark.task_id is not None else None
            if task is not None:
                refs.append(self._task_ref(task))
        if refs:
            blocker["owners"] = refs
        if marks:
            self._last_actor(blocker, marks[-1], what)

    def _last_actor(self, blocker, mark, what):
        if mark is not None:
            blocker["lastActor"] = actor(mark, what)

    def _executor_thread(self, source):
        """(thread, innermost frame) of the executor worker running the concurrent future source."""
        if self._executor_threads is None:
            self._executor_threads = {}
            names = {thread.ident: thread for thread in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                innermost, walker = frame, frame
                while walker is not None:
                    if walker.f_code.co_name == "run" and walker.f_code.co_filename.endswith(
                            os.path.join("concurrent", "futures", "thread.py")):
                        item = dict(frame_locals(walker)).get("self")
                        future = (instance_dict(item) or {}).get("future")  # a _WorkItem's (3.14: not WorkerContext's)
                        if future is not None and ident in names:
                            self._executor_threads[id(future)] = (names[ident], _user_frame(innermost))
                            break
                    walker = walker.f_back
        return self._executor_threads.get(id(source), (None, None))


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
    made = registry.created_at(future)
    if made is not None:  # the program made it itself: where tells which one it is
        return "%s from %s:%d (%s)" % (type(future).__qualname__, os.path.basename(made[0]), made[1], state)
    return "%s (%s)" % (type(future).__qualname__, state)


def actor(mark, what):
    """Actor (protocol.json): who did something through a primitive, and where."""
    entry = {"taskName": mark.task_name, "what": what}
    if mark.task_id is not None:
        entry["taskId"] = mark.task_id
    place = _location(mark.place)
    if place is not None:
        entry["location"] = place
    if mark.iteration is not None:
        entry["iteration"] = mark.iteration
    return entry


def _location(place):
    return {"path": frame_tools.absolute(place[0]), "line": place[1]} if place else None


def _wait_for_inner(chain):
    for _coro, frame in chain:
        if frame.f_code.co_name == "wait_for" and not frame_tools.is_user_file(frame.f_code.co_filename):
            inner = dict(item for item in frame_locals(frame) if item[0] == "fut").get("fut")
            if isinstance(inner, internals.FUTURE_TYPES) and not inner.done():
                return inner
    return None


def _user_frame(frame):
    """The innermost user frame from frame outwards, else frame itself."""
    walker = frame
    while walker is not None:
        if frame_tools.is_user_file(walker.f_code.co_filename):
            return walker
        walker = walker.f_back
    return frame


def _object_id(obj):
    try:
        return registry.task_id(obj)
    except Exception:
        return id(obj) & 0x7FFFFFFF


def _peer_text(transport):
    peer = internals.transport_peer(transport)
    return " from %s" % _address(peer) if peer else ""


def _socket_peer(sock):
    try:
        return " (peer %s)" % _address(socket.socket.getpeername(sock))
    except Exception:
        return ""


def _address(address):
    if isinstance(address, tuple) and len(address) >= 2:
        return "%s:%s" % (address[0], address[1])
    return str(address)


def _watched_events(loop, fd):
    key = (internals.watched_fds(loop) or {}).get(fd)
    if key is None:
        return ""
    words = [word for flag, word in ((selectors.EVENT_READ, "readable"), (selectors.EVENT_WRITE, "writable"))
             if key.events & flag]
    return " or ".join(words)
