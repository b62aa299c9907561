"""Statistics of one event loop, always on: each iteration's time in select() and in running
handles, the longest handle phase, a histogram of handle phases, and a ring of recent iterations
for the timeline. instrument.py's iteration hooks feed it with a few clock readings per iteration
and no work per handle; the blocked-loop watchdog, the snapshot and the timeline read it.
"""

import collections

from .vocabulary import DURATION_BUCKET_BOUNDS

# Recent iterations kept per loop for the timeline: about as many as the step history keeps steps.
ITERATIONS_KEPT = 4096
BUCKETS = len(DURATION_BUCKET_BOUNDS) + 1
_B0, _B1, _B2, _B3, _B4, _B5 = DURATION_BUCKET_BOUNDS


def bucket(seconds):
    """The histogram bucket of a duration (DURATION_BUCKET_BOUNDS): a few comparisons, no call."""
    if seconds < _B2:
        return 0 if seconds < _B0 else (1 if seconds < _B1 else 2)
    if seconds < _B4:
        return 3 if seconds < _B3 else 4
    return 5 if seconds < _B5 else 6


class LoopStats:
    """What is measured of one loop. Times are time.perf_counter() readings of the loop's thread;
    time the debugger held the loop (held_seconds) is left out of every duration."""

    __slots__ = ("iteration_started", "handles_started", "held_since", "held_seconds", "held_at_iteration",
                 "iterations", "select_seconds", "handle_seconds", "longest", "longest_iteration",
                 "histogram", "recent", "blocked", "steps", "next_sample")

    def __init__(self):
        # The running iteration, for the watchdog: 0.0 between iterations; handles_started is 0.0
        # until select() has returned (the loop is waiting, not blocked).
        self.iteration_started = 0.0
        self.handles_started = 0.0
        self.held_since = 0.0       # the debugger holds the loop since then (0.0: not held)
        self.held_seconds = 0.0     # all the time it was held inside iterations
        self.held_at_iteration = 0.0
        self.iterations = 0
        self.select_seconds = 0.0
        self.handle_seconds = 0.0
        self.longest = 0.0          # the longest handle phase
        self.longest_iteration = 0
        self.histogram = [0] * BUCKETS
        self.recent = collections.deque(maxlen=ITERATIONS_KEPT)  # (iteration, start, select end, end)
        self.blocked = 0            # times the watchdog found the loop blocked
        self.steps = None           # stepstats.LoopSteps while per-task statistics are on
        self.next_sample = 0.0      # instrument's ready_sample moment is due then

    def begin(self, now):
        """(instrument._run_once does the same inline: a call per iteration costs more than it.)"""
        self.iteration_started = now
        self.handles_started = 0.0
        self.held_at_iteration = self.held_seconds

    def end(self, iteration, now):
        started, select_ended = self.iteration_started, self.handles_started
        self.iteration_started = self.handles_started = 0.0
        if not select_ended:  # a loop whose select() Loopscope does not see (no _process_events)
            select_ended = started
        else:
            self.select_seconds += select_ended - started
        handles = now - select_ended - (self.held_seconds - self.held_at_iteration)
        self.handle_seconds += handles
        self.iterations += 1
        if handles > self.longest:
            self.longest, self.longest_iteration = handles, iteration
        if handles < _B2:
            self.histogram[0 if handles < _B0 else (1 if handles < _B1 else 2)] += 1
        else:
            self.histogram[bucket(handles)] += 1
        self.recent.append((iteration, started, select_ended, now))

    def snapshot(self):
        """LoopStats (protocol.json)."""
        seconds = self.select_seconds + self.handle_seconds
        return {"iterations": self.iterations, "seconds": seconds,
                "iterationsPerSecond": self.iterations / seconds if seconds > 0 else 0.0,
                "selectSeconds": self.select_seconds, "handleSeconds": self.handle_seconds,
                "longestIterationMs": self.longest * 1000.0, "longestIteration": self.longest_iteration,
                "iterationTimes": list(self.histogram), "blocked": self.blocked}
