"""Explore's perturbations: seeded changes to a run's schedule that asyncio's guarantees allow, so
that an interleaving bug that shows once in fifty runs shows under a seed, every time.

Three kinds, each a choice asyncio leaves open (docs/timetravel.md says why each is legal):

- timer jitter: each timer is made due up to `jitter` seconds later than asked (never earlier);
- I/O readiness order: the descriptors one select() returned are handled in a shuffled order;
- ready-queue interleaving: at an iteration boundary, the handles queued by different handles of
  the iteration before (different sources) are interleaved in a random order that keeps each
  source's own handles in the order it queued them (call_soon FIFO from one source is kept).

Every decision comes from one random.Random(seed), drawn in the order the program reaches them,
and the recording keeps each decision, so a replay applies them without drawing.
"""

import random

# How often an iteration with handles from two or more sources is interleaved anew.
INTERLEAVE_PROBABILITY = 0.5
# The default most a timer is delayed: 1 ms, well inside what load on a machine does to timers.
DEFAULT_JITTER = 0.001


class Perturbation:
    def __init__(self, seed, jitter=DEFAULT_JITTER):
        self.seed = seed
        self.jitter = max(0.0, float(jitter))
        self._random = random.Random(seed)

    def describe(self):
        return {"seed": self.seed, "jitter": self.jitter}

    def timer_delay(self):
        """Seconds to add to a timer's due time: in [0, jitter]."""
        return self._random.uniform(0.0, self.jitter) if self.jitter else 0.0

    def io_order(self, count):
        """A new order for count ready descriptors (None: keep the order)."""
        if count < 2:
            return None
        order = list(range(count))
        self._random.shuffle(order)
        return order

    def interleave(self, groups):
        """groups: how many handles each source queued, in queue order. A new order of the queue
        as indices into it, each group's own handles still in their order; None to keep it."""
        sources = [size for size in groups if size]
        if len(sources) < 2 or self._random.random() >= INTERLEAVE_PROBABILITY:
            return None
        starts, position = [], 0
        for size in groups:
            starts.append(position)
            position += size
        remaining = list(groups)
        taken = [0] * len(groups)
        left = sum(groups)
        order = []
        while left:
            # A uniformly random interleaving: each next handle comes from a group with a
            # probability proportional to what that group has left.
            pick = self._random.randrange(left)
            for group, size in enumerate(remaining):
                if pick < size:
                    break
                pick -= size
            order.append(starts[group] + taken[group])
            taken[group] += 1
            remaining[group] -= 1
            left -= 1
        return order if order != sorted(order) else None
