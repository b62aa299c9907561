"""The timeline: the recent history of every loop (its iterations, from loopstats), of task steps
with who woke whom (stepstats, stepStatistics "tasks"), of stops and of blocked steps, as plain data
(protocol.json Timeline). The TypeScript side makes Chrome Trace Event JSON of it (Perfetto,
chrome://tracing) and draws it in VS Code. Built from Loopscope's own records only, so it runs none
of the program's code and can be answered while the program runs.
"""

import collections
import time

from . import registry
from . import stepstats

MARKS_KEPT = 512
CLOSED_LOOPS_KEPT = 8
_perf_counter = time.perf_counter


class TimelineMarks:
    """Stops and blocked steps, and the loops that have closed (their iterations stay visible)."""

    def __init__(self):
        self.stops = collections.deque(maxlen=MARKS_KEPT)     # (time, loop id, label, description)
        self.blocked = collections.deque(maxlen=MARKS_KEPT)   # (time, loop id, label, description, duration, location)
        self.closed = collections.deque(maxlen=CLOSED_LOOPS_KEPT)  # (loop id, name, LoopStats)

    def stop(self, state, label, description):
        self.stops.append((_perf_counter(), state.id, label, description))

    def blocked_step(self, state, label, description, duration, location):
        self.blocked.append((_perf_counter(), state.id, label, description, duration, location))

    def loop_closed(self, state):
        self.closed.append((state.id, state.name, state.stats))


def build(marks, loop_id=None, steps_recorded=False):
    """Timeline (protocol.json)."""
    loops = [(s.id, s.name, s.stats) for s in registry.loop_states()]
    known = {ident for ident, _name, _stats in loops}
    loops += [entry for entry in list(marks.closed) if entry[0] not in known]
    if loop_id is not None:
        loops = [entry for entry in loops if entry[0] == loop_id]
    wanted = {ident for ident, _name, _stats in loops}
    iterations = {ident: _copy(stats.recent) for ident, _name, stats in loops}
    steps = [s for s in _copy(stepstats.book.recent) if s[1] in wanted]
    stops = [m for m in _copy(marks.stops) if m[1] in wanted]
    blocked = [m for m in _copy(marks.blocked) if m[1] in wanted]
    times = [entries[0][1] for entries in iterations.values() if entries]
    times += [s[3] for s in steps[:1]] + [m[0] for m in stops[:1]] + [m[0] for m in blocked[:1]]
    origin = min(times) if times else _perf_counter()

    def micros(seconds):
        return (seconds - origin) * 1e6

    body = {"origin": origin, "loops": [], "subjects": [], "steps": [], "stops": [], "blocked": [],
            "stepsRecorded": steps_recorded}
    for ident, name, _stats in loops:
        body["loops"].append({"id": ident, "name": name, "iterations": [
            [number, micros(start), micros(select_end), micros(end)] for number, start, select_end, end in iterations[ident]]})
    subjects = {}
    records = stepstats.book.records_by_id()
    for ident, loop, iteration, start, duration, kind, waker, woken_at, location in steps:
        for subject in (ident, waker):
            if subject is not None and subject not in subjects:
                subjects[subject] = _subject(records.get(subject), subject, loop)
        step = {"subject": ident, "loopId": loop, "iteration": iteration, "start": micros(start),
                "duration": duration * 1e6, "kind": kind}
        if waker is not None:
            step["wokenBy"] = waker
            step["wokenAt"] = micros(woken_at)
        if location is not None:
            step["location"] = location
        body["steps"].append(step)
    body["subjects"] = list(subjects.values())
    for when, loop, label, description in stops:
        body["stops"].append({"time": micros(when), "loopId": loop, "label": label, "description": description})
    for when, loop, label, description, duration, location in blocked:
        mark = {"time": micros(when), "loopId": loop, "label": label, "description": description,
                "duration": duration * 1e6}
        if location is not None:
            mark["location"] = location
        body["blocked"].append(mark)
    return body


def _subject(record, ident, loop_id):
    if record is None:  # a task long gone, whose statistics were let go
        return {"id": ident, "name": "task %d" % ident if ident > 0 else "callback", "loopId": loop_id}
    subject = {"id": record.id, "name": record.name, "loopId": record.loop_id}
    if record.coroutine:
        subject["coroutine"] = record.coroutine
    where = record.created_at or record.location
    if where is not None:
        subject["createdAt"] = where
    return subject


def _copy(ring):
    """A list of a deque that another thread may append to: the copy runs in C, under the GIL, and
    is only retried if a collection in the middle ran code that appended."""
    for _attempt in range(10):
        try:
            return list(ring)
        except RuntimeError:
            continue
    return []
