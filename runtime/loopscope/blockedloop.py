"""Blocked-loop detection: a watchdog thread of Loopscope's (a forking.ResidentThread, like
timelimit's: threading.enumerate() does not list it, and it steps aside while the program forks)
looks at every loop each round and finds a step that has held its loop past the threshold while it
still runs. The stop inside such a step is made by pausing.py (the main thread) and busycode.py
(other threads).

It costs the loops nothing: it reads what instrument's iteration hooks write anyway (whether the
loop is in select() or running handles, loopstats.LoopStats) and which task is current. Only a
step that has run for half the threshold gets its thread's frames sampled (sys._current_frames)
and its thread's CPU time read, to tell a call that waits (a sleep, a socket: no CPU time) from code
that computes without yielding. What happens to a blocked step is the Debugger's (on_blocked): a
stop inside it, or a warning.
"""

import _thread
import os
import sys
import time
import weakref

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .forking import ResidentThread

_perf_counter = time.perf_counter
_STEP_BOUNDARY_CODES = frozenset(internals.ORIGINALS[name].__code__ for name in ("handle_run", "run_once"))
SAMPLES_KEPT = 16
# A step whose thread used less CPU time than this share of the wall time was waiting in a call
# (a sleep, a socket, a lock: none at all); a busy one gets far more even on a crowded machine.
WAITING_BELOW = 0.05


def period_for(threshold):
    """How often the watchdog looks: a fifth of the threshold, 5 to 50 ms (a stop lands within
    about one period after the threshold has passed)."""
    return min(0.05, max(0.005, threshold / 5.0))


# How often the watchdog wakes when it watches no loop (it still sends the lints found meanwhile).
IDLE_PERIOD = 0.25


class Episode:
    """One step found running long on one loop."""

    __slots__ = ("state", "iteration", "task_ref", "callback", "ready", "task_name", "first_seen", "held_at_first", "samples", "elapsed",
                 "location", "top", "user_on_top", "cpu", "busy", "reported", "__weakref__")

    def __init__(self, state, task, callback, ready, now):
        self.state = state
        self.iteration = state.iteration
        self.ready = ready               # handles left in the ready queue: the next handle takes one
        self.task_ref = weakref.ref(task) if task is not None else None
        self.callback = callback         # for a plain callback: the code object the handle runs
        self.task_name = None
        self.first_seen = now            # the step started no later than this
        self.held_at_first = state.stats.held_seconds
        self.samples = []                # ((code, line) of the innermost user frame or None, its Location, top frame name)
        self.elapsed = 0.0               # how long it had run when reported
        self.location = None             # Location of the innermost user frame at the last sample
        self.top = None                  # the name of the innermost frame at the last sample
        self.user_on_top = False         # that frame is the user's own (no library code above it)
        self.cpu = _cpu_reading(state.thread_ident)  # (clock id, its reading, wall time) at first sight
        self.busy = False                # computing in the task's own code, not waiting in a call
        self.reported = False

    @property
    def task(self):
        return self.task_ref() if self.task_ref is not None else None

    def still_running(self, state=None):
        """The same step still runs: same iteration, handles phase, same task (any thread)."""
        state = state or self.state
        stats = state.stats
        loop = state.loop
        return (loop is not None and state.iteration == self.iteration and stats.handles_started != 0.0
                and internals.current_task(loop) is self.task)


def _nothing(*_args):
    pass


class BlockedLoops:
    """The watchdog: one thread per process, serving the debugger that started last."""

    def __init__(self):
        self._on_blocked = self._on_ended = self._on_round = _nothing
        self.threshold = 0.1
        self.watching = False
        self._episodes = {}              # loop id -> Episode
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        self._pid = None
        self._thread = ResidentThread(self._run, self._wake_up)  # it steps aside while the program forks

    def serve(self, on_blocked, on_ended, on_round):
        """on_blocked(episode): a step has held its loop past the threshold (once per step).
        on_ended(episode): a reported step is over. on_round(): at the end of every round.
        All are called on the watchdog thread."""
        self._on_blocked, self._on_ended, self._on_round = on_blocked, on_ended, on_round
        self.watching = False

    def configure(self, threshold, watching):
        self.threshold = threshold
        self.watching = watching
        self._wake_up()                  # look again with the new period

    def _wake_up(self):
        try:
            self._wake.release()
        except RuntimeError:
            pass  # awake already

    def start(self):
        """Starts the watchdog thread unless this process has it (a forked child does not)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._episodes.clear()
            self._thread.start()

    def stop(self):
        """Detach: the thread leaves at once; start() brings it back."""
        self._pid = None
        self._episodes.clear()
        self._wake_up()

    def _run(self, stepping_aside):
        pid = os.getpid()
        while self._pid == pid and not stepping_aside():
            if self.watching:
                now = _perf_counter()
                seen = set()
                for state in registry.loop_states():
                    seen.add(state.id)
                    try:
                        self._look(state, now)
                    except Exception:
                        pass  # a loop closing under us; look again next round
                for loop_id in [i for i in self._episodes if i not in seen]:
                    self._end(self._episodes.pop(loop_id))
            else:
                for loop_id in list(self._episodes):
                    self._end(self._episodes.pop(loop_id))
            try:
                self._on_round()
            except Exception:
                pass  # the channel may be closing; the lints wait for the next round
            self._wake.acquire(True, period_for(self.threshold) if self.watching else IDLE_PERIOD)

    def _look(self, state, now):
        stats = state.stats
        episode = self._episodes.get(state.id)
        if stats.held_since != 0.0:
            return  # held by the debugger: its step goes on after, the same step (reported once)
        if stats.handles_started == 0.0:
            if episode is not None:
                self._end(self._episodes.pop(state.id))
            return
        loop = state.loop
        task = internals.current_task(loop) if loop is not None else None
        # Another handle has run since the last look when the ready queue is shorter (each takes
        # one off it), or the code the handle runs is other: many short callbacks in one iteration
        # are a slow iteration (loop statistics), not one blocked step.
        callback = self._running_callback(state) if task is None else None
        ready = len(internals.ready_queue(loop)) if loop is not None else 0
        if episode is None or episode.iteration != state.iteration or episode.task is not task \
                or episode.callback is not callback or ready < episode.ready:
            if episode is not None:
                self._end(episode)
            self._episodes[state.id] = Episode(state, task, callback, ready, now)
            return
        episode.ready = ready  # the step itself may have scheduled more
        elapsed = now - episode.first_seen - (stats.held_seconds - episode.held_at_first)
        if episode.reported or elapsed < self.threshold / 2.0:
            return
        self._sample(state, episode)
        if elapsed >= self.threshold:
            episode.reported = True
            episode.elapsed = elapsed
            episode.busy = episode.user_on_top and _cpu_share(episode, now) >= WAITING_BELOW
            if task is not None:
                episode.task_name = registry.task_name(task)
            stats.blocked += 1
            self._on_blocked(episode)

    def _sample(self, state, episode):
        top = sys._current_frames().get(state.thread_ident)
        frame, user = top, None
        while frame is not None and frame.f_code not in _STEP_BOUNDARY_CODES:
            if user is None and frame_tools.is_user_file(frame.f_code.co_filename):
                user = frame
            frame = frame.f_back
        key = (user.f_code, user.f_lineno) if user is not None else None
        if user is not None:
            episode.location = frame_tools.location(user)
        episode.top = frame_tools.code_name(top.f_code) if top is not None else None
        episode.user_on_top = user is not None and user is top
        episode.samples.append(key)
        del episode.samples[:-SAMPLES_KEPT]
        top = frame = user = None

    def _end(self, episode):
        if episode.reported:
            self._on_ended(episode)

    @staticmethod
    def _running_callback(state):
        """The code object of the frame the running handle called, or None."""
        frame = sys._current_frames().get(state.thread_ident)
        code = None
        while frame is not None and frame.f_code not in _STEP_BOUNDARY_CODES:
            if not frame_tools.is_loopscope_file(frame.f_code.co_filename):
                code = frame.f_code
            frame = frame.f_back
        return code


def _cpu_reading(thread_ident):
    """(clock, CPU time of the thread, wall time), or () where threads' CPU clocks are not readable."""
    try:
        clock = time.pthread_getcpuclockid(thread_ident)
        return (clock, time.clock_gettime(clock), _perf_counter())
    except (AttributeError, OSError, OverflowError):
        return ()


def _cpu_share(episode, now):
    """The share of the wall time since the step was first seen that its thread spent on a CPU
    (1.0 when it cannot be read: computing is then assumed)."""
    if not episode.cpu:
        return 1.0
    clock, cpu, wall = episode.cpu
    try:
        used = time.clock_gettime(clock) - cpu
    except OSError:
        return 1.0
    now = max(now, _perf_counter())
    return used / (now - wall) if now > wall else 1.0


watchdog = BlockedLoops()
