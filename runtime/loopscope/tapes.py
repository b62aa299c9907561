"""What a recording holds for one event loop: its tape. Appended to while the program records,
read back while it replays; written to disk in chunks (recordfile.py), each holding what was
appended since the one before.

Iterations are numbered as LoopState.iteration counts them: iteration k is the k-th `_run_once`.
Readings of the loop clock go into buckets: bucket k holds those made while iteration k ran (and
at the boundary after it); bucket 0 those made before the first iteration.
"""

import base64
import sys
from array import array

# The list-valued streams: each entry is appended whole and written once.
_LISTS = ("events", "threads", "orders", "tasks", "io", "lookups", "urandom")
# The array-valued streams. A chunk holds each as its items' little-endian bytes in base64 (format
# 2): writing 30,000 clock readings as JSON numbers took 17 ms at a loop's close, this takes 0.3 ms.
_ARRAYS = {"ready": "q", "readyMarks": "q", "times": "d", "timeMarks": "q", "jitters": "d"}
_LITTLE_ENDIAN = sys.byteorder == "little"
STREAMS = _LISTS + tuple(_ARRAYS)


def pack(values):
    """An array as a chunk holds it."""
    if not _LITTLE_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def unpack(kind, packed):
    """pack()'s string, or a list of numbers (format 1), as an array of kind; ValueError if damaged."""
    if not isinstance(packed, str):
        return array(kind, packed)
    values = array(kind)
    values.frombytes(base64.b64decode(packed.encode("ascii"), validate=True))
    if not _LITTLE_ENDIAN:
        values.byteswap()
    return values


class LoopTape:
    """One loop's recorded schedule (see the module docstring for the numbering)."""
    writing = True  # appends are kept (recording._NoTape drops them)

    def __init__(self, index):
        self.index = index                 # the loop's place among the loops the program ran, from 0
        self.iterations = 0                # iterations begun
        self.ready = array("q")            # codes (handlecodes.py) of the handles queued as each iteration begins
        self.readyMarks = array("q")       # iteration k's codes start at ready[readyMarks[k - 1]]
        self.times = array("d")            # every reading of the loop clock, in order
        self.timeMarks = array("q", [0])   # bucket k's readings start at times[timeMarks[k]]
        self.events = []                   # [iteration, [[fd identity, mask], ...]]: what select() returned
        self.threads = []                  # [iteration, count]: callbacks other threads had handed over by then
        self.orders = []                   # [iteration, [index, ...]]: explore's new order of the ready queue
        self.jitters = array("d")          # explore's delay of each timer, in the order they were made
        self.tasks = []                    # [ordinal, name, coroutine, path, line]
        self.io = []                       # [connection, operation, result]: socket operations (tapesockets.py)
        self.lookups = []                  # getaddrinfo results, in order
        self.urandom = []                  # os.urandom's bytes drawn on this loop's thread, base64, in order
        self._written = dict.fromkeys(STREAMS, 0)
        self._written["timeMarks"] = 1  # the opening 0 is every tape's: never written

    # --- reading --------------------------------------------------------------------------------

    def ready_codes(self, iteration):
        """The recorded codes of iteration k's queued handles, or None past the end of the tape."""
        if not 1 <= iteration <= len(self.readyMarks):
            return None
        start = self.readyMarks[iteration - 1]
        end = self.readyMarks[iteration] if iteration < len(self.readyMarks) else len(self.ready)
        return self.ready[start:end].tolist()

    def bucket(self, iteration):
        """(start, end) of bucket k in times; end is None for the last bucket on the tape."""
        if iteration >= len(self.timeMarks):
            return len(self.times), len(self.times)
        start = self.timeMarks[iteration]
        end = self.timeMarks[iteration + 1] if iteration + 1 < len(self.timeMarks) else len(self.times)
        return start, end

    @property
    def recorded_iterations(self):
        return len(self.readyMarks)

    def by_iteration(self, stream):
        """{iteration: value} of one of the per-iteration streams (events, threads, orders)."""
        return {entry[0]: entry[1] for entry in getattr(self, stream)}

    # --- chunks ---------------------------------------------------------------------------------

    def chunk(self):
        """What was appended since the last chunk, as plain JSON data; None if nothing was."""
        body = {}
        for name in STREAMS:
            values = getattr(self, name)
            start = self._written[name]
            if len(values) > start:
                body[name] = values[start:] if isinstance(values, list) else pack(values[start:])
                self._written[name] = len(values)
        if not body:
            return None
        body["loop"] = self.index
        body["iterations"] = self.iterations
        return body

    def absorb(self, body):
        """Append a chunk read from disk."""
        for name, kind in _ARRAYS.items():
            values = body.get(name)
            if values:
                getattr(self, name).extend(unpack(kind, values))
        for name in _LISTS:
            values = body.get(name)
            if values:
                getattr(self, name).extend(values)
        self.iterations = max(self.iterations, int(body.get("iterations", 0)))
