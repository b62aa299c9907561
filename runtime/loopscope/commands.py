"""One handler per request from the adapter (see protocol.json), called on the channel thread.

Handlers that only change settings answer at once; those that read the program's state are run
on the held loop's thread and answer from there. None runs the program's code or waits for I/O here:
setBreakpoints reads its file on a thread of its own (sourcefiles.py).
"""

import threading

from . import ending
from . import instrument
from . import asyncio_internals as internals
from . import output
from . import registry
from .recordfile import RecordingError
from .sourcefiles import SourceReader
from .vocabulary import ARGUMENT_DEFAULTS

# The most children one variables request returns; more are asked for in pages (start, count).
MAX_VARIABLES_PER_REQUEST = 10000


class CommandHandlers:
    def __init__(self, debugger, channel_ref, attachment=None):
        """attachment: the session's attachment.Attachment when Loopscope joined a running program;
        None when it started the program (whose detach lets it run on with its output sent elsewhere)."""
        self._debugger = debugger
        self._channel = channel_ref
        self._sources = SourceReader()
        self._attachment = attachment
        self.started = threading.Event()  # the program may run: started, or detached before it started
        self.start_arguments = {}
        self.ended_before_start = False

    def handle(self, request):
        handler = getattr(self, "on_" + request["command"], None)
        # What the request leaves out takes protocol.json's default.
        arguments = dict(ARGUMENT_DEFAULTS.get(request["command"], {}), **request.get("arguments", {}))
        channel = self._channel()
        if handler is None:  # schema.check_request already refused unknown names
            channel.send_response(request, error="unknown request %r" % request["command"])
            return
        try:
            body = handler(arguments, request)
        except LookupError as error:
            channel.send_response(request, error=str(error).strip("'\""))
            return
        except Exception as error:
            channel.send_response(request, error="%s: %s" % (type(error).__name__, error))
            return
        if body is not _ANSWERS_LATER:
            channel.send_response(request, body)

    def on_setFunctionBreakpoints(self, arguments, _request):
        return {"breakpoints": self._debugger.set_function_breakpoints(arguments["breakpoints"])}

    def on_setTaskFilters(self, arguments, _request):
        results = self._debugger.set_task_filters(arguments["filters"], arguments["loopBlockedMs"],
                                                  arguments.get("filterOptions", ()), arguments.get("exceptionOptions", ()))
        return {"results": results}

    def on_exitReport(self, arguments, _request):
        self._debugger.health.timeline_at_exit = arguments["timeline"]
        return {}

    def on_timeline(self, arguments, _request):
        # Loopscope's own records only: answered on the channel thread, running or held.
        return self._debugger.timeline(arguments.get("loopId"))

    def on_start(self, arguments, _request):
        self.start_arguments = arguments
        try:
            self._debugger.start(arguments)
        except RecordingError as error:
            raise LookupError(str(error))
        self.started.set()
        return {}

    def on_terminate(self, _arguments, request):
        if self._attachment is not None:
            raise LookupError("Loopscope did not start this program, so it does not end it: detach leaves it running")
        self._take_out(interrupt_main=True)
        self._channel().send_response(request, {})
        if not self.started.is_set():
            self.ended_before_start = True  # none of the program's code has run: launcher.py just exits
            self.started.set()
            return _ANSWERS_LATER
        if not self._debugger.interrupted_in_hold:  # a held main thread interrupts itself where it was held
            ending.interrupt_main_thread()
        return _ANSWERS_LATER

    def on_detach(self, arguments, request):
        channel = self._channel()
        if self._attachment is not None:
            notes = self._attachment.detach()
            # Answered once everything is out; then the connection closes.
            channel.send_response(request, {"notes": notes} if notes else {})
            self._attachment.finish()
            return _ANSWERS_LATER
        self._take_out()
        body = {}
        if "outputFile" in arguments:
            problem = ending.redirect_output(arguments["outputFile"])
            if problem:
                body["problem"] = problem
        channel.send_response(request, body)
        channel.finish()  # by us: the program runs on (launcher.py ends it only when the adapter goes)
        self.started.set()  # a child process told to run free before its session started
        return _ANSWERS_LATER

    def _take_out(self, interrupt_main=False):
        """A launched program's session ends (terminate, detach): Loopscope out of it, as
        attachment.detach() does for an attached one; the loop clock of a loop that stayed busy in a
        callback stays the session's (its timers were set in it)."""
        debugger = self._debugger
        unsettled = debugger.close(interrupt_main=interrupt_main)
        loops = [state.loop for state in registry.loop_states()]
        if instrument.listening(debugger):
            instrument.uninstall(keep_clock=bool(unsettled) and debugger.settings.clock != "wall")
        for loop in loops:
            internals.wake(loop)
        return _ANSWERS_LATER

    def on_threads(self, _arguments, _request):
        threads, left_out = self._debugger.threads()
        body = {"threads": threads}
        if left_out:
            body["tasksNotListed"] = left_out
        return body

    def on_snapshot(self, arguments, request):
        debugger = self._debugger
        work = lambda: debugger.snapshot(arguments.get("loopId"), arguments["maxTasks"], arguments["maxFutures"])
        if debugger.holding.primary is None:
            return work()  # nothing held: every loop reports 'running', no user code runs
        return self._on_held_thread(work, request)

    def on_taskSwitches(self, arguments, request):
        debugger = self._debugger

        def work():
            loop_id = arguments.get("loopId")
            switches, recorded = debugger.switches.recent({loop_id} if loop_id is not None else None,
                                                         arguments["limit"], registry.loop_states())
            return {"switches": switches, "recorded": recorded}
        if debugger.holding.primary is None:
            raise LookupError("the program is running; pause it to see its task switches")
        return self._on_held_thread(work, request)

    def on_setBreakpoints(self, arguments, request):
        # The file is read on a thread of its own: one that blocks (a FIFO, a hung mount) must not
        # hold up the channel.
        channel, path, specs = self._channel(), arguments["path"], arguments["breakpoints"]

        def done(lines, problem, latest):
            try:
                body = {"breakpoints": self._debugger.set_line_breakpoints(path, specs, lines, problem, latest)}
            except Exception as error:
                channel.send_response(request, error="%s: %s" % (type(error).__name__, error))
            else:
                channel.send_response(request, body)
        self._sources.read(path, done)
        return _ANSWERS_LATER

    def on_exceptionInfo(self, _arguments, request):
        return self._on_held_thread(self._debugger.exception_info, request)

    def on_advanceClock(self, arguments, _request):
        try:
            return self._debugger.advance_clock(arguments["seconds"])
        except ValueError as error:
            raise LookupError(str(error))

    def on_cancelTask(self, arguments, request):
        debugger = self._debugger
        work = lambda: debugger.cancel_task(arguments["taskId"])
        if debugger.holding.primary is None:
            return work()  # nothing held: the cancel is handed to the task's loop
        return self._on_held_thread(work, request, arguments["taskId"])

    def on_resume(self, arguments, request):
        # Answer first: the released program may stop again at once, and its next stopped event
        # must not overtake this response (the client would take the old stop as current).
        self._channel().send_response(request, {})
        self._debugger.resume(arguments["mode"], arguments.get("threadId"))
        return _ANSWERS_LATER

    def on_pause(self, _arguments, _request):
        self._debugger.pause()
        return {}

    def on_stackTrace(self, arguments, request):
        def work():
            frames = self._debugger.stack_trace(arguments["threadId"])
            start = arguments["startFrame"]
            levels = arguments["levels"] or len(frames)
            return {"stackFrames": frames[start:start + levels], "totalFrames": len(frames)}
        return self._on_held_thread(work, request, arguments.get("threadId"))

    def on_scopes(self, arguments, request):
        return self._on_held_thread(lambda: {"scopes": self._inspection().scopes(arguments["frameId"])}, request)

    def on_outputHeld(self, arguments, _request):
        output.set_held(arguments["held"])
        return {}

    def on_variables(self, arguments, request):
        if arguments["count"] > MAX_VARIABLES_PER_REQUEST:
            raise LookupError("Loopscope returns at most %d variables at a time, not %d: ask for them in pages "
                              "(start and count)" % (MAX_VARIABLES_PER_REQUEST, arguments["count"]))

        def work():
            variables = self._inspection().variables(arguments["variablesReference"], arguments["start"],
                                                     arguments["count"], arguments.get("filter"))
            return {"variables": variables}
        return self._on_held_thread(work, request)

    def on_evaluate(self, arguments, request):
        def work():
            try:
                return self._inspection().evaluate(arguments["expression"], arguments.get("frameId"),
                                                   arguments.get("context"))
            finally:
                self._debugger.forget_loop_views()  # what the user typed may have changed anything
        return self._on_held_thread(work, request, self._frame_loop(frame_id=arguments.get("frameId")))

    def on_setVariable(self, arguments, request):
        def work():
            try:
                return self._inspection().set_variable(arguments["variablesReference"], arguments["name"],
                                                       arguments["value"])
            finally:
                self._debugger.forget_loop_views()
        return self._on_held_thread(work, request, self._frame_loop(reference=arguments["variablesReference"]))

    def on_setExpression(self, arguments, request):
        def work():
            try:
                return self._inspection().set_expression(arguments["expression"], arguments["value"],
                                                         arguments.get("frameId"))
            finally:
                self._debugger.forget_loop_views()
        return self._on_held_thread(work, request, self._frame_loop(frame_id=arguments.get("frameId")))

    def on_completions(self, arguments, request):
        work = lambda: self._inspection().completions(arguments["text"], arguments.get("frameId"))
        return self._on_held_thread(work, request, self._frame_loop(frame_id=arguments.get("frameId")))

    def _frame_loop(self, frame_id=None, reference=None):
        """The id of the loop a frame belongs to, so that what is typed in it runs on that loop's held
        thread (an await needs its own loop); None: the stop the user sees."""
        inspection = self._debugger.inspection
        state = inspection.loop_of(frame_id, reference) if inspection is not None else None
        return state.id if state is not None else None

    def on_tasks(self, arguments, request):
        work = lambda: self._debugger.tasks(arguments.get("loopId"), arguments["groupBy"], arguments.get("filter"),
                                            arguments.get("group"), arguments["start"], arguments["count"],
                                            arguments.get("ids"), arguments["sort"])
        return self._on_held_thread(work, request)

    def _inspection(self):
        inspection = self._debugger.inspection
        if inspection is None:
            raise LookupError("the program is running; pause it first")
        return inspection

    def _on_held_thread(self, work, request, thread_id=None):
        channel = self._channel()

        def done(body, error):
            if error is None:
                channel.send_response(request, body)
            else:
                channel.send_response(request, error=error)
        self._debugger.on_held_thread(work, done, thread_id)
        return _ANSWERS_LATER


_ANSWERS_LATER = object()
