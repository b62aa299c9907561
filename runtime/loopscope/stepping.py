"""Steps: what the user's step buttons mean where the program is held, and where each step ends.

A step is one small object of one kind. Loop steps end at a loop's iteration boundary or before
its next handle; a line step ends at a line of user code, whatever ran between. Step Out of a
task's own coroutine is both: its line step ends in the awaiting coroutine, if one runs, and its
loop step when the iteration is over. The Stepper holds the step in progress; the debugger asks it
at each hook moment whether the step ends there.
"""

from . import frames as frame_tools
from .vocabulary import ResumeMode, StopPlace


class IterationStep:
    """Hold at the next iteration boundary of one loop: exactly one `_run_once` runs."""
    records_whole_iterations = True
    needs_every_handle = False

    def __init__(self, loop_id):
        self.loop_id = loop_id

    def ends_at_boundary(self, state):
        return state.id == self.loop_id

    def ends_before_handle(self, state):
        return False


class RunStep:
    """Step Out between iterations: hold when a later run of a loop (run_forever) starts iterating."""
    records_whole_iterations = True
    needs_every_handle = False

    def __init__(self, run_number):
        self.run_number = run_number

    def ends_at_boundary(self, state):
        return state.run_number > self.run_number

    def ends_before_handle(self, state):
        return False


class HandleStep:
    """Hold before the next handle of one loop."""
    records_whole_iterations = False
    needs_every_handle = True

    def __init__(self, loop_id):
        self.loop_id = loop_id

    def ends_at_boundary(self, state):
        return False

    def ends_before_handle(self, state):
        return state.id == self.loop_id


class LineStep:
    """Step by line in user code: into ends at the next user line anywhere; over at the next line of
    the same frame (over await: other tasks run meanwhile) or back in its caller; out in its caller."""

    def __init__(self, kind, frame, iteration):
        self.kind = kind            # ResumeMode.OVER, INTO or OUT
        self.frame = frame
        self.start_line = frame.f_lineno
        self.start_iteration = iteration
        self.caller = frame_tools.user_caller(frame)

    def ends_at(self, frame, state):
        if self.kind == ResumeMode.INTO:
            return True
        if frame is self.caller and self.caller is not None:
            return True
        if self.kind == ResumeMode.OVER and frame is self.frame:
            return frame.f_lineno != self.start_line or state.iteration != self.start_iteration
        return False


def plan(mode, stop):
    """(loop step, line step) for a ResumeMode from this stop; either may be None."""
    if mode == ResumeMode.CONTINUE:
        return None, None
    frame = stop.frame
    in_code = stop.where == StopPlace.CODE and frame is not None and frame_tools.is_user_file(frame.f_code.co_filename)
    state = stop.state
    if in_code and mode in (ResumeMode.OVER, ResumeMode.INTO, ResumeMode.OUT):
        line = LineStep(mode, frame, state.iteration)
        # Out of a task's own coroutine (nobody awaits it from user code): also hold when the
        # loop's iteration is over.
        loop = IterationStep(state.id) if mode == ResumeMode.OUT and line.caller is None else None
        return loop, line
    if mode in (ResumeMode.OVER, ResumeMode.ITERATION) or (mode == ResumeMode.OUT and stop.where == StopPlace.HANDLE):
        return IterationStep(state.id), None
    if mode in (ResumeMode.INTO, ResumeMode.HANDLE):
        return HandleStep(state.id), None
    return RunStep(state.run_number), None  # out, between iterations


class Stepper:
    """The step in progress. The tracer watches every user line while a line step runs."""

    def __init__(self, tracer):
        self._tracer = tracer
        self.loop_step = None
        self.line_step = None

    def begin(self, mode, stop):
        self.loop_step, self.line_step = plan(mode, stop)
        if self.line_step is not None:
            self._tracer.update(stepping=True)

    def end(self):
        """The program stopped (for this step or anything else): no step is in progress."""
        self.loop_step = None
        if self.line_step is not None:
            self.line_step = None
            self._tracer.update(stepping=False)

    @property
    def records_whole_iterations(self):
        return self.loop_step is not None and self.loop_step.records_whole_iterations

    @property
    def needs_every_handle(self):
        return self.loop_step is not None and self.loop_step.needs_every_handle

    def ends_at_boundary(self, state):
        return self.loop_step is not None and self.loop_step.ends_at_boundary(state)

    def ends_before_handle(self, state):
        return self.loop_step is not None and self.loop_step.ends_before_handle(state)

    def line_ends_at(self, frame, state):
        return self.line_step is not None and self.line_step.ends_at(frame, state)
