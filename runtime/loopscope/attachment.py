"""A debug session joined to a program that is already running, and its detach.

Loopscope's hooks go in mid-run (they are class attributes that each loop looks up at its next
iteration); the loops that are running are found on the threads' stacks and woken; with stopOnEntry
every loop is held where it is, inside a busy callback too (pausing.py). At detach everything goes
out again (Debugger.close(), instrument.uninstall(), the process hooks, the runtime's own modules),
so that the program runs on as it would have without Loopscope. Runs on threads of Loopscope's own,
never on the program's: serve() is what bootstrap.py starts after an attach by process id;
listening.py makes one Attachment per client in listen mode.
"""

import _thread
import os
import sys
import threading

from . import asyncio_internals as internals
from . import bootstrap
from . import instrument
from . import output
from . import processhooks
from . import registry
from . import timelimit
from .channel import Channel, ChannelError
from .commands import CommandHandlers
from .debugger import Debugger
from .gilturns import turns

# How long each loop gets to pass one more boundary at detach (Debugger.close()).
SETTLE_TIMEOUT = 1.0
# Attaching with stopOnEntry: how long a woken loop gets to reach a boundary before the callback
# it is busy in is interrupted (a pause gives it longer: the user may be stepping through a burst).
BUSY_DELAY = 0.05
# The runtime's modules are imported under this private package name (bootstrap.py).
_PACKAGE = __name__.rpartition(".")[0]


def serve(ticket, marker):
    """After an attach by process id (bootstrap.py), on the runtime's thread: connect to the adapter
    with the ticket's token and serve the session until it ends."""
    token, ticket["token"] = ticket["token"], None  # one use; nothing keeps it after the hello
    attachment = Attachment(marker)
    try:
        channel = Channel("127.0.0.1", ticket["port"], token, attachment.handle_request, attachment.channel_closed)
    except ChannelError:
        attachment.forget_runtime()  # the adapter is gone: nobody to tell
        return
    try:
        attachment.run(channel)
    except BaseException:
        # A fault of Loopscope's own: the program must not keep half a session (bootstrap.py tells the adapter).
        attachment.detach()
        attachment.finish()
        raise


def refusal(marker):
    """Why Loopscope cannot debug this program from inside it, or None."""
    if marker.session is not None:
        return ("Loopscope is attached to this program already, from another debug session: end that "
                "session (Disconnect) first.")
    launched = sys.modules.get("loopscope.instrument")
    if launched is not None and getattr(launched, "_listener", None) is not None:
        return "This program runs under Loopscope already (a Loopscope launch started it): debug it in that session."
    if not internals.SUPPORTED:
        return "Python %d.%d is not supported by Loopscope (%d.%d to %d.%d)." % (
            sys.version_info[:2] + internals.OLDEST_PYTHON + internals.NEWEST_PYTHON)
    other = other_debugger()
    if other:
        return "%s is attached to this program: disconnect it first, then attach Loopscope." % other
    return None


def other_debugger():
    """The name of a debugger or tracer working in this process, or None."""
    name = "debugpy" if "pydevd" in sys.modules else "another debugger or tracer"
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        tool = monitoring.get_tool(monitoring.DEBUGGER_ID)
        if tool is not None:
            return "%s (sys.monitoring tool %r)" % (name, tool)
    gettrace = getattr(threading, "gettrace", None)
    if (gettrace() if gettrace is not None else getattr(threading, "_trace_hook", None)) is not None:
        return name
    frames = sys._current_frames()
    try:
        if any(_traced(frame) for frame in frames.values()):
            return name
    finally:
        frames = None
    return None


def _traced(frame):
    while frame is not None:
        if frame.f_trace is not None:
            return True
        frame = frame.f_back
    return False


def running_loops():
    """[(loop, (thread ident, thread name))] of the asyncio loops running now, found on the threads'
    stacks (a gc scan would cost 0.1-0.3 s per million objects with the program held meanwhile)."""
    codes = (internals.ORIGINALS["run_forever"].__code__, internals.ORIGINALS["run_once"].__code__)
    found = {}
    names = {ident: thread.name for ident, thread in list(threading._active.items())}  # never makes a thread object
    frames = sys._current_frames()
    try:
        for ident, frame in frames.items():
            while frame is not None:
                if frame.f_code in codes:
                    loop = frame.f_locals.get("self")
                    if isinstance(loop, internals.BaseEventLoop) and loop.is_running():
                        found[id(loop)] = (loop, (ident, names.get(ident, "thread %d" % ident)))
                    break
                frame = frame.f_back
    finally:
        frames = frame = None
    return list(found.values())


class Attachment:
    """One session joined to the running program, from its hello to its detach."""

    def __init__(self, marker, owns_runtime=True, program_started=True):
        """owns_runtime: the runtime's modules were loaded for this session alone (an attach by
        process id) and leave with it; a listener keeps them for its next client.
        program_started: False when the program waits for this session to start (listen mode's
        --wait-for-client): then it is a launched session, stopOnEntry and all."""
        self._marker = marker
        self._owns_runtime = owns_runtime
        self._program_started = program_started
        self.on_start = lambda: None  # called once the hooks are in (listening.py)
        self.on_end = lambda: None    # called once the session is over
        self._lock = _thread.allocate_lock()
        self._detached = False
        self._finished = False
        self._claimed = False  # this session is the one the marker says is active
        self._gone = threading.Event()  # the adapter went away (or detached) before the program started
        self.channel = None
        self._lending = None   # the loops wait for this session's start (bootstrap.Lending)
        self.debugger = None   # made once the program is known to be debuggable (run())
        self.handlers = None

    def _send_event(self, event, body):
        channel = self.channel
        if channel is not None:
            channel.send_event(event, body)

    def handle_request(self, message):
        handlers = self.handlers
        if handlers is not None:
            handlers.handle(message)

    def run(self, channel):
        """Serve the session on this (the runtime's) thread until the program starts under it; the
        channel thread serves the rest."""
        try:
            self._run(channel)
        finally:
            if self._lending is not None:
                self._lending.end()

    def _run(self, channel):
        self.channel = channel
        hello = {"pid": os.getpid(), "python": "%d.%d.%d" % sys.version_info[:3],
                 "executable": sys.executable or "", "attached": True}
        problem = refusal(self._marker)
        if problem is not None:
            channel.start(dict(hello, refusal=problem))
            self._detached = True
            self.finish()
            return
        self._marker.session = _PACKAGE
        self._claimed = True
        # Until the hooks are in, every loop waits at its next boundary (after an attach by process
        # id, they have waited since the bootstrap).
        self._lending = bootstrap.lend_loops(self._marker)
        output.output_goes_elsewhere()
        self.debugger = Debugger(self._send_event, attach_marker=self._marker)
        self.debugger.attached = self._program_started
        self.debugger.connected = True
        self.handlers = CommandHandlers(self.debugger, lambda: self.channel, self)
        channel.start(hello)
        while not self.handlers.started.wait(0.2):
            if self._gone.is_set():
                return
        self.begin()

    def begin(self):
        """The start request came: the hooks go in, the running loops are found and, with
        stopOnEntry, held where they are."""
        debugger = self.debugger
        with self._lock:
            if self._detached:
                return
            instrument.install(debugger)
            debugger.install_busy_pause()
            timelimit.install_interrupt()
        # From here each loop's iterations leave the GIL to this thread's work (gilturns.py).
        with turns.working():
            if self._lending is not None:
                self._lending.end()
            self._begin_on_loops()

    def _begin_on_loops(self):
        debugger = self.debugger
        self.on_start()
        if not self._program_started:
            return  # a launch in all but name: stopOnEntry holds the first loop before its first iteration
        states = [instrument.adopt_running_loop(loop, thread) for loop, thread in running_loops()]
        if not states:
            self._send_event("log", {"level": "info", "message": (
                "No asyncio event loop is running in this program yet: Loopscope %s." % (
                    "holds the first one that starts" if debugger.settings.stop_on_entry else
                    "sees each one from its first iteration"))})
        for state in states:
            why = debugger.pausing.why_busy_code_cannot_stop(state)
            if why is not None:
                self._send_event("log", {"level": "info", "message": (
                    "If %s is busy in a callback, pause holds it only when the callback returns: %s."
                    % (state.label, why))})
        if debugger.settings.stop_on_entry:
            debugger.pause_on_attach(BUSY_DELAY)

    def detach(self):
        """Everything of Loopscope's out of the program; returns notes on what could not be put back."""
        with self._lock:
            if self._detached:
                return []
            self._detached = True
        self._gone.set()
        if self.debugger is None:
            return []  # refused, or the adapter left before the hello: nothing was installed
        notes = []
        unsettled = self.debugger.close(SETTLE_TIMEOUT)
        for state in unsettled:
            notes.append("%s was busy in a callback when Loopscope detached%s." % (
                state.label, "; its timers keep the loop time of the session (the pauses taken out)"
                if self.debugger.settings.clock != "wall" else ""))
        loops = [state.loop for state in registry.loop_states()]
        instrument.uninstall()
        processhooks.release()
        # The main thread may have gone to sleep in select() just after the release's signals
        # came, which then wait there: one more wake-up has it run the trampolines now.
        for loop in loops:
            internals.wake(loop)
        return notes

    def channel_closed(self, _reason):
        """The adapter is gone (or detached): the program runs on without Loopscope."""
        self.detach()
        self.finish()

    def finish(self):
        """After the detach: the runtime's modules leave sys.modules (what still runs of them, this
        thread and the channel's, finishes on its own), then the connection closes, which tells the
        adapter that nothing of Loopscope's is left."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.forget_runtime()
        channel = self.channel
        if channel is not None:
            channel.close()
        self.on_end()

    def forget_runtime(self):
        marker = self._marker
        # A refused attach must not pull the modules from under the session that refused it.
        if self._owns_runtime and (marker.session is None or self._claimed):
            for name in [n for n in list(sys.modules) if n == _PACKAGE or n.startswith(_PACKAGE + ".")]:
                sys.modules.pop(name, None)
            sys.path_importer_cache.pop(os.path.dirname(os.path.abspath(__file__)), None)
        if self._claimed:
            marker.session = None
