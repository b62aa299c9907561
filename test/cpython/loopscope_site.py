"""Runs CPython's test_asyncio under Loopscope: copied by run_suite.py into a temporary directory as
sitecustomize.py, next to a snapshot of the runtime, so that every Python process of a regrtest run
(the main process, the -j workers and any Python the tests start) instruments its event loops.

LOOPSCOPE_CPYTHON_MODE picks what the process does; unset, this file does nothing.
  free  Loopscope as during a running debug session: every loop hooked, a debugger.Debugger as
        the listener, configured through commands.CommandHandlers as the adapter configures it
        (start with launch.json's defaults, but taskSwitchHistory "always", so the full per-handle
        hook runs for every handle), and a function breakpoint that never matches.
  hold  The same without the breakpoint, and every loop is held at every iteration boundary by
        the Debugger's own machinery (_hold -> "stopped" event -> _serve_while_held blocks on a
        queue) and released by another thread sending a resume request ("iteration", threadId),
        as a user pressing Step Loop Iteration does. Every Nth stop that thread first asks what
        VS Code and the loop views ask: threads, stackTrace, snapshot, taskSwitches, scopes and
        variables (test files count as the user's code, so there are frames and locals to show).

Nothing goes over a socket: an in-process FakeChannel checks every event and response against
protocol.json and encodes it as the real channel would.

LOOPSCOPE_CPYTHON_STATS names a directory where each process writes <pid>.json at exit: how much
the hooks saw (loops, iterations, handles, stops) and every problem: a hook that raised (the runtime
switches its hooks off; we record the traceback and switch them back on), an event or response
that breaks protocol.json or cannot be encoded, a request that failed or hung, an event sent by a
child forked from the debugged process (in a session it would go out on the parent's channel).
Other knobs: LOOPSCOPE_CPYTHON_INSPECT_EVERY (default 25), LOOPSCOPE_CPYTHON_CLOCK (default
frozen, as launch.json), LOOPSCOPE_CPYTHON_FILTERS (task filters, for experiments).
"""

import os

_MODE = os.environ.get("LOOPSCOPE_CPYTHON_MODE", "")


def _activate():
    import _thread
    import atexit
    import json
    import queue
    import sys
    import traceback

    from loopscope import channel, commands, frames, instrument, registry, schema, stops, timelimit
    from loopscope.debugger import Debugger
    from loopscope.holding import Holding
    from loopscope.stepping import IterationStep
    from loopscope.vocabulary import StopPlace

    stats_dir = os.environ.get("LOOPSCOPE_CPYTHON_STATS")
    inspect_every = int(os.environ.get("LOOPSCOPE_CPYTHON_INSPECT_EVERY", "25") or 0)
    filters = [f for f in os.environ.get("LOOPSCOPE_CPYTHON_FILTERS", "").split(",") if f]
    clock = os.environ.get("LOOPSCOPE_CPYTHON_CLOCK") or "frozen"  # the adapter's default
    never = "loopscope-cpython-breakpoint-that-never-matches"
    max_problems = 40
    answer_timeout = 60.0

    counts = {"loops": 0, "loops_closed": 0, "iterations": 0, "handles": 0, "stops": 0, "quiet_holds": 0,
              "resumes": 0, "inspections": 0, "frames_inspected": 0, "variables_inspected": 0, "events": 0}
    problems = []

    # Tests are the simulated user's own code: stack traces and resume locations show their frames.
    # This file is not: it overrides Debugger methods, so its frames sit among Loopscope's own.
    test_dir = os.path.join(os.path.dirname(os.__file__), "test") + os.sep
    this_file = __file__
    library_is_user = frames.is_user_file

    def is_user_file(filename):
        return filename != this_file and (filename.startswith(test_dir) or library_is_user(filename))
    frames.is_user_file = is_user_file

    def current_test():
        """The id of the unittest test running on some thread, for problem reports."""
        unittest = sys.modules.get("unittest")
        if unittest is None:
            return None
        try:
            for top in sys._current_frames().values():
                frame = top
                while frame is not None:
                    code = frame.f_code
                    if code.co_name in ("run", "_callTestMethod") and code.co_varnames[:1] == ("self",):
                        candidate = frame.f_locals.get("self")
                        if isinstance(candidate, unittest.TestCase):
                            return candidate.id()
                    frame = frame.f_back
        except Exception:
            pass
        return None

    forked = []  # non-empty in a child forked from an instrumented process

    def problem(kind, detail, trace=None):
        if len(problems) < max_problems:
            problems.append({"kind": kind, "detail": detail, "test": current_test(), "traceback": trace})
        counts[kind] = counts.get(kind, 0) + 1
        if forked:
            flush_stats()  # forked children usually end with os._exit: no atexit

    releases = queue.SimpleQueue()

    class SuiteDebugger(Debugger):
        def __init__(self):
            super().__init__(self._event)

        def _event(self, event, body):
            counts["events"] += 1
            if forked and not counts.get("event_in_forked_child"):
                # In a debug session this would go out on the parent's channel socket, which the
                # child inherited, with ids that clash with the parent's; a stop would never be resumed.
                problem("event_in_forked_child", "a child forked from the debugged process sent %r on the "
                        "channel it inherited" % event)
            try:
                schema.check_event(event, body)
                channel.encode_frame({"type": "event", "event": event, "body": body})
            except Exception as error:
                problem("bad_event", "%s: %s: %s" % (event, type(error).__name__, error), traceback.format_exc())
            if event == "stopped":
                counts["stops"] += 1
                releases.put(body["threadId"])
            elif event == "log" and body.get("level") == "error":
                problem("error_log", body.get("message"))

        def hooks_disabled(self, reason):
            # Called inside instrument._notify's except clause: the hook's traceback is still current.
            problem("hook_failed", reason, traceback.format_exc())
            super().hooks_disabled(reason)
            instrument.install(self)  # switch back on, so the rest of the suite is still exercised
            with self._lock:
                self._apply_hooks()

        def loop_registered(self, state):
            counts["loops"] += 1
            super().loop_registered(state)

        def loop_closed(self, state):
            counts["loops_closed"] += 1
            counts["iterations"] += state.iteration
            super().loop_closed(state)

        def before_handle(self, state, handle):
            counts["handles"] += 1
            return super().before_handle(state, handle)

        def _serve_while_held(self, stop):
            if stop is not self.holding.primary:
                counts["quiet_holds"] += 1
            return super()._serve_while_held(stop)

    class HoldingDebugger(SuiteDebugger):
        def before_iteration(self, state):
            step = self.stepper.loop_step
            if self.holding.stopping or self.entry_pending or (isinstance(step, IterationStep)
                                                               and step.loop_id == state.id):
                return super().before_iteration(state)
            # A loop the last step was not for (another thread's, or the next test's new loop):
            # hold it as if the user had stepped it.
            return self._hold(stops.step(state, StopPlace.ITERATION))

    debugger = HoldingDebugger() if _MODE == "hold" else SuiteDebugger()

    class FakeChannel:
        """The adapter's end of the control channel, in process: checks what the runtime sends
        as the real channel does (protocol.json, JSON encoding) and hands the answers back."""

        def __init__(self):
            self.answers = {}
            self.seq = 0

        def request(self, command, arguments=None, wait=True):
            self.seq += 1
            message = {"seq": self.seq, "type": "request", "command": command, "arguments": arguments or {}}
            if not hasattr(handlers, "on_" + command):
                return None  # a request this runtime does not serve (yet)
            try:
                schema.check_request(message)
            except schema.ProtocolError as error:
                problem("bad_request", "%s: %s" % (command, error))  # the harness's own mistake
                return None
            answer = self.answers[self.seq] = queue.Queue()
            handlers.handle(message)
            if not wait:
                return None
            try:
                response = answer.get(timeout=answer_timeout)
            except queue.Empty:
                problem("request_hung", "%s: no response in %.0f s" % (command, answer_timeout))
                return None
            finally:
                del self.answers[message["seq"]]
            if not response["success"]:
                problem("request_failed", "%s %s: %s" % (command, json.dumps(arguments), response["message"]))
                return None
            return response["body"]

        def send_response(self, request, body=None, error=None):
            body = body if body is not None else {}
            if error is None:
                try:
                    schema.check_response(request["command"], body)
                    channel.encode_frame({"type": "response", "body": body})
                except Exception as failure:
                    problem("bad_response", "%s: %s: %s" % (request["command"], type(failure).__name__, failure),
                            traceback.format_exc())
            answer = self.answers.get(request.get("seq"))
            if answer is not None:
                answer.put({"success": error is None, "body": body, "message": error})

    fake_channel = FakeChannel()
    handlers = commands.CommandHandlers(debugger, lambda: fake_channel)

    def inspect(thread_id):
        """What VS Code asks after a stop, plus the loop views: threads, the stack, the top
        frame's scopes and locals, the loop snapshot and task switches."""
        counts["inspections"] += 1
        fake_channel.request("threads")
        stack = fake_channel.request("stackTrace", {"threadId": thread_id, "startFrame": 0, "levels": 20})
        fake_channel.request("snapshot", {})
        fake_channel.request("taskSwitches", {})
        real = [f for f in (stack or {}).get("stackFrames", ()) if f.get("presentationHint") != "label"]
        counts["frames_inspected"] += len(real)
        if not real:
            return
        scopes = fake_channel.request("scopes", {"frameId": real[0]["id"]})
        if not scopes or not scopes.get("scopes"):
            return
        variables = fake_channel.request("variables", {"variablesReference": scopes["scopes"][0]["variablesReference"]})
        counts["variables_inspected"] += len((variables or {}).get("variables", ()))

    def release_forever():
        """The simulated user: every stop is inspected now and then, then stepped past."""
        while True:
            thread_id = releases.get()
            try:
                if inspect_every and (counts["stops"] - 1) % inspect_every == 0:
                    inspect(thread_id)
            except Exception as error:
                problem("inspection_failed", "%s: %s" % (type(error).__name__, error), traceback.format_exc())
            counts["resumes"] += 1
            if fake_channel.request("resume", {"mode": "iteration", "threadId": thread_id}) is None:
                debugger.resume("continue")  # never leave the program held

    def start_releaser():
        _thread.start_new_thread(release_forever, ())

    def after_fork_in_child():
        # Only this thread survives a fork: the child gets its own "user", and forgets stops that
        # belonged to the parent's other threads.
        nonlocal releases
        forked.append(os.getpid())
        for key in counts:
            counts[key] = 0
        del problems[:]
        if _MODE != "hold":
            return
        releases = queue.SimpleQueue()
        debugger._lock = _thread.allocate_lock()
        debugger.holding = Holding()
        start_releaser()

    def write_stats():
        for state in registry.loop_states():
            counts["iterations"] += state.iteration
        flush_stats()

    def flush_stats():
        if not stats_dir:
            return
        record = {"pid": os.getpid(), "mode": _MODE, "argv": sys.argv, "counts": counts, "problems": problems}
        try:
            with open(os.path.join(stats_dir, "%d.json" % os.getpid()), "w") as stream:
                json.dump(record, stream)
        except OSError:
            pass

    # Configured through the request handlers, as the adapter does before the program starts.
    if _MODE == "hold":
        start_releaser()  # now, not lazily: tests count threads before and after themselves
    else:
        fake_channel.request("setFunctionBreakpoints", {"breakpoints": [{"name": never}]})
    if filters:
        fake_channel.request("setTaskFilters", {"filters": filters})
    # What the adapter sends with launch.json's defaults; in hold mode the first boundary stops and
    # each release steps to the next. Only the arguments this runtime's protocol knows.
    start = {"stopOnEntry": _MODE == "hold", "maxTaskThreads": 256, "clock": clock, "justMyCode": True,
             # free: task switches recorded all the time, so the full per-handle hook runs for
             # every handle (a function breakpoint alone only sends task steps that may match).
             "taskSwitchHistory": "always" if _MODE == "free" else "whileStepping"}
    known = schema.SCHEMA["requests"]["start"]["arguments"].get("properties", {})
    fake_channel.request("start", {k: v for k, v in start.items() if k in known})
    os.register_at_fork(after_in_child=after_fork_in_child)
    # As launcher.py does before the program starts.
    instrument.install(debugger)
    debugger.install_busy_pause()
    timelimit.install_interrupt()
    atexit.register(write_stats)


if _MODE in ("free", "hold"):
    try:
        _activate()
    except Exception as _error:  # a broken harness must be loud, not a silently plain run
        import sys as _sys
        _sys.stderr.write("loopscope_site: could not activate mode %r: %r\n" % (_MODE, _error))
        _stats = os.environ.get("LOOPSCOPE_CPYTHON_STATS")
        if _stats:
            with open(os.path.join(_stats, "activation-error-%d.txt" % os.getpid()), "w") as _f:
                _f.write(repr(_error))
