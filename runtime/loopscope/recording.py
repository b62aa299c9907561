"""Record and replay a run's schedule: what each loop iteration ran and everything from outside
the program that decided it (docs/timetravel.md).

A Recorder is made for a session that records, replays, or both (a replay that goes on
recording, so that a session can step back again). Each loop gets a LoopDeck when first seen: it
writes the loop's tape (tapes.py) and plays back the tape of the same loop in the recording
replayed. What comes from outside, and where it is taken:

- the loop clock: BaseEventLoop.time is replaced by taped_time while a Recorder is installed;
- what select() returned: the loop's own selector is wrapped (tapeselectors.py);
- data connections received: their sockets change class (tapesockets.py);
- callbacks other threads hand the loop (call_soon_threadsafe, executors): they are staged
  and enter the ready queue right after select() returns, recorded by count, so that a replay
  lets in the same ones at the same iteration;
- the seed of the module-level random functions, and the hash seed the adapter chose;
- bytes from os.urandom drawn on a loop's thread (secrets, uuid4, a WebSocket client's key and
  masks): os.urandom and random's own reference to it are replaced by taped_urandom.

At each iteration boundary the deck codes the ready queue (handlecodes.py): written while
recording, compared while replaying. The first difference, or anything else the tape cannot
answer, is a divergence: the loop goes live there, and the debugger stops and says what differed.
A loop whose tape ends goes live too: the clock carries on from the last recorded reading.
"""

import base64
import collections
import errno
import hashlib
import os
import random
import sys
import threading
import time
import weakref

from . import __version__
from . import asyncio_internals as internals
from . import clock as clock_tools
from . import recordfile
from . import registry
from . import stops
from . import tapesockets
from .handlecodes import HandleCoder, NameTable, task_facts
from .tapes import STREAMS, LoopTape
from .tapeselectors import TapeSelector

# A loop's chunk goes to disk after this many iterations (and at every stop, at loop close, at exit).
FLUSH_EVERY = 4096
# How long a replay waits for a thread to hand the loop the callback the recording says it did.
THREAD_DEADLINE = 30.0
_states = registry.states


class Recorder:
    """The session's recording and replay (see the module docstring).

    record: path to write, or None; replay: path of the recording to play back, or None;
    target: (loop index, iteration) to stop at (a boundary with that many iterations run) or None;
    perturbation: perturbation.Perturbation for explore, or None; hash_seed: the PYTHONHASHSEED
    the program runs with (an int) or None."""

    def __init__(self, record=None, replay=None, target=None, perturbation=None, hash_seed=None, program=None):
        self.source = recordfile.read(replay) if replay else None  # RecordingError: the start request fails
        header = self.source.header if self.source is not None else {}
        self.names = NameTable(self.source.names if self.source is not None else ())
        self.target = tuple(target) if target is not None else None
        self.perturbation = perturbation
        self.random_seed = header.get("randomSeed") if self.source is not None else int.from_bytes(os.urandom(8), "big")
        self.hash_seed = hash_seed
        self.decks = []
        self._lock = threading.RLock()
        self._writer = None
        self.warnings = []
        if self.source is not None:
            self.warnings.extend(_replay_warnings(self.source, hash_seed, program, going_back=target is not None))
        if record:
            explore = perturbation.describe() if perturbation is not None else header.get("explore")
            self._writer = recordfile.RecordingWriter(record, {
                "loopscope": __version__, "python": "%d.%d.%d" % sys.version_info[:3],
                "implementation": sys.implementation.name, "program": program, "argv": None,
                "cwd": os.getcwd(), "randomSeed": self.random_seed, "hashSeed": hash_seed, "explore": explore,
                "programDigest": _digest(program), "replayOf": os.path.abspath(replay) if replay else None,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    @property
    def writing(self):
        return self._writer is not None

    @property
    def path(self):
        return self._writer.path if self._writer is not None else None

    def start(self):
        """Before the program's first line: the random seed, the taped clock and taped random bytes."""
        random.seed(self.random_seed)
        clock_tools.install_taped(taped_time, self.peek)
        _tape_urandom(True)

    def deck(self, state):
        """The loop's deck, made when the loop is first seen."""
        deck = state.record
        if deck is not None:
            return deck
        with self._lock:
            if state.record is None:
                index = len(self.decks)
                source = self.source.tape(index) if self.source is not None else None
                replaying = self.source is not None
                deck = LoopDeck(self, state, index, source if source is not None else LoopTape(index), replaying)
                self.decks.append(deck)
                state.record = deck
                deck.attach()
            return state.record

    def task_created(self, loop, task):
        state = registry.state_of(loop)
        if state is not None:
            self.deck(state).coder.ordinal(task)

    def peek(self, loop):
        """The loop's time as Loopscope itself reads it: never written, never taken from a tape."""
        state = registry.state_of(loop)
        deck = state.record if state is not None else None
        return deck.peek() if deck is not None else clock_tools.live_time(loop)

    def flush(self):
        """Write what every loop appended since the last flush."""
        writer = self._writer
        if writer is None:
            return
        with self._lock:
            chunks = [chunk for chunk in (deck.tape.chunk() for deck in list(self.decks)) if chunk is not None]
            names = self.names.take_added()
            if chunks or names:
                writer.write({"kind": "chunk", "names": names, "loops": chunks})

    def finish(self):
        """At exit: the rest, and the end frame."""
        _tape_urandom(False)
        writer = self._writer
        if writer is None:
            return
        self.flush()
        writer.close({"iterations": {str(deck.index): deck.tape.iterations for deck in self.decks}})

    def abandon(self):
        """In a forked child: the file is the parent's, and the child draws its own random bytes."""
        _tape_urandom(False)
        if self._writer is not None:
            self._writer.abandon()
            self._writer = None


class LoopDeck:
    """One loop's recording and playback. `tape` is written (when the session records); `source`
    is played back while `replaying`. Runs on the loop's own thread except stage()."""

    def __init__(self, recorder, state, index, source, replaying):
        self.recorder = recorder
        self.state = state
        self.index = index
        self.tape = LoopTape(index) if recorder.writing else _NoTape()
        self.source = source
        self.replaying = replaying
        self.coder = HandleCoder(recorder.names, self._task_seen)
        self.perturbation = recorder.perturbation
        self.sources = []          # explore: how many handles each handle of this iteration queued
        self.last_time = None      # the last loop time handed out while replaying
        self.divergence = None     # what differed, said at the next boundary
        self.arrived = False
        # Work at each boundary besides coding the queue (at_boundary): a replay, explore, a target.
        self.boundary_work = replaying or self.perturbation is not None or recorder.target is not None
        # The fast clock: a recording loop that runs live reads the clock and writes it down inline
        # (taped_time); a replay goes through read_time.
        self.fast_clock = not replaying and recorder.writing
        self.times = self.tape.times
        self._identities = 0
        self._connections = 0
        self._flushed_at = 0
        self._cursor = self._cursor_end = 0
        self.staged = collections.deque()  # callbacks from other threads, not let in yet
        self._staging = threading.Condition(threading.Lock())
        # What the source says, by iteration.
        self._events = source.by_iteration("events")
        self._threads = source.by_iteration("threads")
        self._orders = source.by_iteration("orders")
        self._tasks = {entry[0]: entry[1:] for entry in source.tasks}
        self._io = collections.defaultdict(collections.deque)
        for connection, operation, result in source.io:
            self._io[(connection, operation)].append(result)
        self._lookups = collections.deque(source.lookups)
        self._random_bytes = collections.deque(source.urandom)
        self._jitters = collections.deque(source.jitters)
        self._last_iteration = source.recorded_iterations
        self._cursor, self._cursor_end = source.bucket(0)  # readings before the first iteration

    # --- wiring ---------------------------------------------------------------------------------

    def attach(self):
        loop = self.state.loop
        if loop is None:
            return
        real = internals.selector_of(loop)
        if real is not None and not isinstance(real, TapeSelector):
            internals.set_selector(loop, TapeSelector(real, self))
        tapesockets.wrap_loop(loop, self)
        _wrap_threads(loop, self)
        if self.perturbation is not None or len(self._jitters):
            _wrap_call_at(loop, self)

    def new_identity(self):
        identity = self._identities
        self._identities += 1
        return identity

    def _task_seen(self, ordinal, task):
        if self.recorder.writing:
            self.tape.tasks.append([ordinal] + task_facts(task))

    # --- iteration boundaries -------------------------------------------------------------------

    def at_boundary(self, loop):
        """Before the debugger sees the boundary: explore reorders the ready queue; a replay applies
        the recorded order and compares the queue with the tape. Returns (news, text) for the
        debugger ('diverged', 'ended', 'arrived') or None."""
        state = self.state
        coming = state.iteration + 1
        if self.divergence is not None:
            text, self.divergence = self.divergence, None
            return "diverged", text
        if self.replaying:
            expected = self.source.ready_codes(coming)
            if expected is None:
                self.go_live()
                if self._arrives(state):
                    return "arrived", None
                if coming == 1:
                    return "ended", "The recording has no iterations of %s: it runs live." % state.label
                return "ended", ("The replay of %s reached the end of the recording before iteration %d; the program "
                                 "runs live from here." % (state.label, coming))
            order = self._orders.get(coming)
            if order is not None:
                _reorder(internals.ready_queue(loop), order)
            handles = list(internals.ready_queue(loop))
            actual = self.coder.codes(handles)
            if actual != expected:
                self.go_live()
                return "diverged", self._difference(coming, expected, actual, handles)
        elif self.perturbation is not None:
            ready = internals.ready_queue(loop)
            groups, self.sources = self.sources, []
            if sum(groups) == len(ready):
                order = self.perturbation.interleave(groups)
                if order is not None:
                    _reorder(ready, order)
                    self.tape.orders.append([coming, order])
        if self._arrives(state):
            return "arrived", None
        return None

    def _arrives(self, state):
        target = self.recorder.target
        if target is None or self.arrived or target != (self.index, state.iteration):
            return False
        self.arrived = True
        return True

    def begin_iteration(self, loop):
        """Just before iteration k runs (after any hold): the ready queue's codes go on the tape, and
        the clock readings start a new bucket."""
        tape = self.tape
        if tape.writing:
            ready = tape.ready
            tape.readyMarks.append(len(ready))
            queue = internals.ready_queue(loop)
            if queue:
                ready.fromlist(self.coder.codes(queue))  # twice as fast as extend() from a list
            tape.timeMarks.append(len(self.times))
            coming = tape.iterations = self.state.iteration + 1
            if coming - self._flushed_at >= FLUSH_EVERY:
                self._flushed_at = coming
                self.recorder.flush()
        if self.boundary_work:
            if self.replaying:
                self._cursor, self._cursor_end = self.source.bucket(self.state.iteration + 1)
            self.sources = []

    # --- the clock ------------------------------------------------------------------------------

    def read_time(self, loop):
        """A reading of the loop clock by the program or asyncio."""
        if self.state.held:  # the debugger is serving a stop: what the user evaluates is not the run's
            return self.peek()
        if self.replaying:
            if self._cursor < self._cursor_end:
                value = self.source.times[self._cursor]
                self._cursor += 1
            else:
                value = self._out_of_readings(loop)
        else:
            value = clock_tools.live_time(loop)
        self.tape.times.append(value)
        self.last_time = value
        return value

    def _out_of_readings(self, loop):
        if self.state.iteration >= self._last_iteration:
            self.go_live()  # the recording stops inside this iteration: live from here
        else:
            self.diverge("the program read the loop clock more often in iteration %d than the recording did"
                         % self.state.iteration)
        return clock_tools.live_time(loop)

    def peek(self):
        loop = self.state.loop
        if self.replaying:
            if self.last_time is not None:
                return self.last_time
            if self._cursor < self._cursor_end:
                return self.source.times[self._cursor]
        return clock_tools.live_time(loop) if loop is not None else 0.0

    def timer_delay(self):
        """Explore's delay of the timer being made (recorded), or the recorded one."""
        if self.replaying and self._jitters:
            delay = self._jitters.popleft()
        elif self.perturbation is not None and not self.replaying:
            delay = self.perturbation.timer_delay()
        else:
            return 0.0
        self.tape.jitters.append(delay)
        return delay

    # --- select() -------------------------------------------------------------------------------

    def replayed_events(self):
        """[[identity, mask]] select() returned in this iteration, or None when live."""
        if not self.replaying:
            return None
        return self._events.get(self.state.iteration, [])

    def selected(self, ready, identity_of):
        """What select() returns now (real, or replayed as keys): other threads' callbacks enter
        the ready queue, explore may shuffle the list, and the tape notes it."""
        iteration = self.state.iteration
        loop = self.state.loop
        if self.replaying:
            wanted = self._threads.get(iteration, 0)
            if wanted and not self._wait_for_staged(wanted):
                self.diverge("the recording has %d callbacks handed over by other threads in iteration %d; this run "
                             "had %d after %d s" % (wanted, iteration, len(self.staged), THREAD_DEADLINE))
                wanted = len(self.staged)
        else:
            wanted = len(self.staged)
        if wanted and loop is not None:
            queue = internals.ready_queue(loop)
            with self._staging:
                for _ in range(min(wanted, len(self.staged))):
                    queue.append(self.staged.popleft())
            self.tape.threads.append([iteration, wanted])
        if self.perturbation is not None and not self.replaying:
            order = self.perturbation.io_order(len(ready))
            if order is not None:
                ready = [ready[i] for i in order]
        if ready and self.tape.writing:
            self.tape.events.append([iteration, [[identity_of.get(key.fd, -1), mask] for key, mask in ready]])
        return ready

    def stage(self, handle):
        """From another thread: a callback for the loop, let in after the next select()."""
        with self._staging:
            self.staged.append(handle)
            self._staging.notify_all()

    def _wait_for_staged(self, count):
        deadline = time.monotonic() + THREAD_DEADLINE
        with self._staging:
            while len(self.staged) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._staging.wait(min(left, 0.5))
        return True

    # --- connections ----------------------------------------------------------------------------

    def new_connection(self, sock):
        if type(sock) in (tapesockets.RecordedSocket, tapesockets.ReplayedSocket):
            return  # connected again (a retry): the same connection
        self.number(sock)

    def new_listener(self, sock):
        """A listening socket of this loop: the connections it accepts are on the tape."""
        if type(sock) in tapesockets.LISTENERS:
            return  # served again, or accepted on again
        self.number(sock, listening=True)

    def number(self, sock, listening=False):
        """A socket of this loop (connected, listening, or one a listening socket accepted or,
        replaying, stands in for): its number, given in the order of the recording."""
        self._connections += 1
        tapesockets.adopt(sock, self, self._connections, self.replaying, listening)
        return self._connections

    def socket_result(self, connection, operation, value):
        if self.tape.writing:
            self.tape.io.append([connection, operation, tapesockets.encode(value)])

    def socket_replay(self, connection, operation, live):
        queue = self._io.get((connection, operation))
        if queue:
            value = tapesockets.decode(queue.popleft())
        elif live is not None:
            return live()
        else:
            if self.replaying and self.state.iteration < self._last_iteration:
                self.diverge("connection %d: the program asked for more (%s) than the recording has" % (
                    connection, operation))
            value = ConnectionResetError(errno.ECONNRESET, "this connection was replayed from a recording, which ends "
                                                           "here: it has no live peer")
        self.socket_result(connection, operation, value)
        return value

    def urandom(self, size):
        """Random bytes from the OS, drawn on this loop's thread."""
        if self.replaying:
            if self._random_bytes:
                value = base64.b64decode(self._random_bytes.popleft())
                if len(value) == size:
                    self._note_random_bytes(value)
                    return value
                self.diverge("the program asked for %d random bytes where the recording has %d" % (size, len(value)))
            elif self.state.iteration < self._last_iteration:
                self.diverge("the program asked for more random bytes than the recording has")
        value = _real_urandom(size)
        self._note_random_bytes(value)
        return value

    def _note_random_bytes(self, value):
        if self.tape.writing:
            self.tape.urandom.append(base64.b64encode(value).decode("ascii"))

    def next_lookup(self):
        return self._lookups.popleft() if self._lookups else None

    def lookup_result(self, encoded):
        if self.tape.writing:
            self.tape.lookups.append(encoded)

    # --- divergence -----------------------------------------------------------------------------

    def diverge(self, text):
        """Something the tape cannot answer: live from here; the debugger hears at the boundary."""
        if self.replaying:
            self.divergence = "The replay of %s diverged from the recording in iteration %d: %s." % (
                self.state.label, self.state.iteration, text)
            self.go_live()
            self.boundary_work = True

    def go_live(self):
        """The tape is over for this loop: the clock carries on from its last reading."""
        if not self.replaying:
            return
        self.replaying = False
        self.fast_clock = self.recorder.writing
        loop = self.state.loop
        if loop is not None and self.last_time is not None:
            self.state.clock_skew += self.last_time - clock_tools.live_time(loop)

    def _difference(self, iteration, expected, actual, handles):
        for position, (wanted, got) in enumerate(zip(expected, actual)):
            if wanted != got:
                return ("The replay of %s diverged from the recording before iteration %d: handle %d of the ready "
                        "queue should be %s, but it is %s." % (self.state.label, iteration, position + 1,
                                                               self.describe_code(wanted), _describe(handles[position])))
        if len(expected) > len(actual):
            return ("The replay of %s diverged from the recording before iteration %d: the ready queue has %d "
                    "handles, the recording %d; missing: %s." % (self.state.label, iteration, len(actual),
                                                                 len(expected), self.describe_code(expected[len(actual)])))
        return ("The replay of %s diverged from the recording before iteration %d: the ready queue has %d handles, "
                "the recording %d; not recorded: %s." % (self.state.label, iteration, len(actual), len(expected),
                                                         _describe(handles[len(expected)])))

    def describe_code(self, code):
        if code > 0:
            facts = self._tasks.get(code)
            if facts is None:
                return "a step of task #%d" % code
            name, coroutine, path, line = facts
            return "a step of task %s (%s, created at %s:%d)" % (name, coroutine, os.path.basename(path), line)
        return "callback %s" % self.recorder.names.name(code)


class _NoTape:
    """The tape of a session that replays without recording: whatever is appended is dropped."""
    writing = False
    iterations = 0

    def __init__(self):
        for name in STREAMS:
            setattr(self, name, _DISCARD)

    def chunk(self):
        return None


class _Discard:
    def append(self, _value):
        pass

    def extend(self, _values):
        pass

    def __len__(self):
        return 0


_DISCARD = _Discard()


def _describe(handle):
    info = stops.describe_handle(handle)
    if "taskName" in info:
        task = registry.task_of_handle(handle)
        created = registry.created_at(task) if task is not None else None
        text = "a step of task %s (%s" % (info["taskName"], info.get("coroutine", "?"))
        if created is not None:
            text += ", created at %s:%d" % (os.path.basename(created[0]), created[1])
        text += ")"
        where = info.get("resumeAt")
        if where is not None:
            text += " resuming at %s:%d" % (os.path.basename(where["path"]), where["line"])
        return text
    return "callback %s" % info["callback"]


def _reorder(ready, order):
    """Put the first len(order) handles of the ready deque in the given order (indices into them).
    Handles appended meanwhile (a signal handler) stay after them."""
    count = len(order)
    head = [ready.popleft() for _ in range(count)]
    ready.extendleft(reversed([head[index] for index in order]))


# --- the loop clock, taped -------------------------------------------------------------------

def taped_time(self):
    """BaseEventLoop.time while a session records or replays."""
    state = _states.get(id(self))
    if state is None or state.loop_ref() is not self:
        if _register is None:
            return clock_tools.live_time(self)
        state = _register(self)  # a clock read may be the first sight of a loop
    deck = state.record
    if deck is None:
        if _recorder is None:
            return clock_tools.live_time(self)
        deck = _recorder.deck(state)
    if deck.fast_clock and not state.held:
        paused_at = _clock.paused_at  # _clock.now(), inline: this runs for every timer the program makes
        value = (paused_at if paused_at is not None else _monotonic()) - _clock.offset + state.clock_skew
        deck.times.append(value)
        return value
    return deck.read_time(self)


_clock = clock_tools.clock
_monotonic = time.monotonic  # as clock.Clock.now reads it


_recorder = None   # the Recorder the taped clock serves (one per process)
_register = None   # instrument's loop registration


def install(recorder, register):
    """recorder: the session's Recorder, or None; register(loop) -> LoopState (instrument.register)."""
    global _recorder, _register
    _recorder, _register = recorder, register


# --- os.urandom, taped --------------------------------------------------------------------------

_real_urandom = os.urandom


def taped_urandom(size):
    """os.urandom while a session records or replays: on a loop's thread, the loop's deck answers."""
    loop = _running_loop()
    state = _states.get(id(loop)) if loop is not None else None
    if state is None or state.loop_ref() is not loop or state.held or state.record is None:
        return _real_urandom(size)  # no loop here, or the debugger serving a stop
    return state.record.urandom(size)


taped_urandom.__name__ = taped_urandom.__qualname__ = "urandom"  # as the program would see os.urandom
taped_urandom.__module__ = _real_urandom.__module__
_running_loop = internals.get_running_loop


def _tape_urandom(on):
    """random imported os.urandom under its own name: both go (and come back) together."""
    for owner, name in ((os, "urandom"), (random, "_urandom")):
        current = getattr(owner, name, None)
        if on and current is _real_urandom:
            setattr(owner, name, taped_urandom)
        elif not on and current is taped_urandom:
            setattr(owner, name, _real_urandom)


# --- per-loop wrappers ------------------------------------------------------------------------

def _wrap_threads(loop, deck):
    """call_soon_threadsafe from another thread stages the callback (see LoopDeck.stage). And a job
    run_in_executor starts waits until run_in_executor has returned: a job that finished before the
    loop chained its future would hand its result over on the loop's own thread, not through the
    stage, and whether it does is a race that a replay could not repeat."""
    loop_ref = weakref.ref(loop)
    original = loop.call_soon_threadsafe
    original_run_in_executor = loop.run_in_executor
    get_ident = threading.get_ident

    def run_in_executor(executor, func, *args):
        gate = threading.Event()

        def job():
            gate.wait()
            return func(*args)
        try:
            return original_run_in_executor(executor, job)
        finally:
            gate.set()

    def call_soon_threadsafe(callback, *args, context=None):
        running = loop_ref()
        if running is None:
            return original(callback, *args, context=context)
        owner = internals.loop_thread_id(running)
        if owner is None or owner == get_ident():
            return original(callback, *args, context=context)
        if running.is_closed():
            raise RuntimeError("Event loop is closed")
        handle = internals.new_threadsafe_handle(callback, args, running, context)
        deck.stage(handle)
        internals.wake(running)
        return handle

    loop.call_soon_threadsafe = call_soon_threadsafe
    loop.run_in_executor = run_in_executor


def _wrap_call_at(loop, deck):
    """Explore's timer jitter, and its replay: each timer made is due later by the deck's delay."""
    original = loop.call_at

    def call_at(when, callback, *args, context=None):
        return original(when + deck.timer_delay(), callback, *args, context=context)

    loop.call_at = call_at


# --- what a replay should warn of -------------------------------------------------------------

def _digest(program):
    if not program or not os.path.isfile(program):
        return None
    try:
        with open(program, "rb") as source:
            return hashlib.sha256(source.read()).hexdigest()
    except OSError:
        return None


def _replay_warnings(source, hash_seed, program, going_back=False):
    """What the user should know before a replay. going_back: the adapter replays the session's own
    recording to step back, which ends where the program was held (so it has no end frame)."""
    header = source.header
    warnings = []
    recorded = header.get("program")
    if recorded and program and recorded != program and os.path.basename(recorded) != os.path.basename(program):
        warnings.append("The recording %s is of %s, not of %s: the replay will diverge at once. Replay a recording "
                        "of this program (record it with \"record\": true)." % (source.path, recorded, program))
        return warnings
    python = "%d.%d.%d" % sys.version_info[:3]
    if header.get("python") and header["python"].rsplit(".", 1)[0] != python.rsplit(".", 1)[0]:
        warnings.append("The recording was made with Python %s and replays with %s: asyncio differs between "
                        "versions, so the replay may diverge." % (header["python"], python))
    if header.get("hashSeed") is not None and hash_seed is not None and header["hashSeed"] != hash_seed:
        warnings.append("The recording ran with hash seed %s, this replay with %s: sets of strings may iterate in "
                        "another order." % (header["hashSeed"], hash_seed))
    if going_back:
        return warnings
    digest = header.get("programDigest")
    if digest and program and _digest(program) not in (None, digest):
        warnings.append("%s has changed since it was recorded; the replay will stop where the run differs."
                        % os.path.basename(program))
    if source.cut_short:
        warnings.append("The recording %s was cut short (%s): it replays as far as it goes, then the program "
                        "runs live." % (source.path, source.cut_short))
    elif source.end is None:
        warnings.append("The recording %s has no end: the run that made it was ended before it exited. It replays "
                        "as far as it goes, then the program runs live." % source.path)
    return warnings
