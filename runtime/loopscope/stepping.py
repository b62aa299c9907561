"""Steps: what the user's step buttons mean where the program is held, and where each step ends.

A step is one small object of one kind. Loop steps end at a loop's iteration boundary or before
its next handle; a line step ends at a line of user code on the thread it began on, whatever ran
between. Step Out of a task's own coroutine is both: its line step ends in the awaiting coroutine,
if one runs, and its loop step when the iteration is over. On a thread that runs no loop, a line
step whose frame returns into library code goes on into the thread's next line of user code, as
in any Python debugger. The Stepper holds the step in progress; the debugger asks it at each hook
moment whether the step ends there.
"""

import _thread

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
    """Step by line in user code. Into ends at the next user line anywhere; over at the next line of
    the same frame (over await: other tasks run meanwhile); out where the frame has returned to.
    When the frame returns, every kind lands in what called or awaited it: its caller's next line
    or return; for a task's own coroutine, the tasks awaiting that task, when they resume; with
    nobody to land in, the loop step ends the step at the iteration's end."""

    def __init__(self, kind, frame, iteration, thread_ident):
        self.kind = kind            # ResumeMode.OVER, INTO or OUT
        self.frame = frame          # the frame the step began in, until it returns
        self.start_line = frame.f_lineno
        self.start_iteration = iteration
        self.thread_ident = thread_ident  # the step ends on this thread only
        caller = frame_tools.user_caller(frame)
        self.landing = {caller} if caller is not None else set()  # frames whose next event ends the step

    @property
    def caller(self):
        return next(iter(self.landing), None)

    def ends_at(self, frame, state):
        """At a line event."""
        if _thread.get_ident() != self.thread_ident:
            return False
        if self.kind == ResumeMode.INTO or frame in self.landing:
            return True
        if self.kind == ResumeMode.OVER and frame is self.frame:
            return frame.f_lineno != self.start_line or state.iteration != self.start_iteration
        return False

    def returned(self, frame, awaiting_frames):
        """A user frame returned or unwound. True if the step ends here (a frame it was to land in
        returns before its next line: the stop shows it at the line that called); else where the
        step lands now. awaiting_frames() lists the frames that await the task whose own coroutine
        this frame is (empty for any other frame)."""
        if frame in self.landing:
            return True
        if frame is not self.frame:
            return False
        self.frame = None
        caller = frame_tools.user_caller(frame)
        self.landing = {caller} if caller is not None else set(awaiting_frames())
        return False


def plan(mode, stop):
    """(loop step, line step) for a ResumeMode from this stop; either may be None."""
    if mode == ResumeMode.CONTINUE:
        return None, None
    frame = stop.frame
    state = stop.state
    # A thread that runs no loop steps by line from wherever it is held (there is no loop to step).
    in_code = stop.where == StopPlace.CODE and frame is not None and (
        not state.is_loop or frame_tools.is_user_file(frame.f_code.co_filename))
    if in_code and mode in (ResumeMode.OVER, ResumeMode.INTO, ResumeMode.OUT):
        return None, LineStep(mode, frame, state.iteration, stop.thread_ident)
    if not state.is_loop:
        return None, None
    if mode in (ResumeMode.OVER, ResumeMode.ITERATION) or (mode == ResumeMode.OUT and stop.where == StopPlace.HANDLE):
        return IterationStep(state.id), None
    if mode in (ResumeMode.INTO, ResumeMode.HANDLE):
        return HandleStep(state.id), None
    return RunStep(state.run_number), None  # out, between iterations


class Stepper:
    """The step in progress. The tracer watches every user line, and user frames' returns, while a
    line step runs."""

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

    def line_returned(self, frame, state, awaiting_frames):
        """A user frame returned during a line step: True if the step ends here. When the step has
        nowhere left to land, it ends at this iteration's end instead (returns False; the caller
        then applies the new hook plan)."""
        step = self.line_step
        if step is None or step.returned(frame, awaiting_frames):
            return step is not None
        if step.frame is None and not step.landing and step.kind != ResumeMode.INTO and self.loop_step is None:
            if state.is_loop:
                self.loop_step = IterationStep(state.id)
            else:
                step.kind = ResumeMode.INTO  # on into the thread's next line of user code
        return False
