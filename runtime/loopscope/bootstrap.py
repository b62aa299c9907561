"""Run inside a program Loopscope attaches to, on its main thread: sys.remote_exec runs it there,
and the gdb injection either calls it there or queues it as a pending call, which only the main
thread serves. It returns at once and never raises, so the program does not notice: it takes the
ticket's token off the disk, installs the trampolines only the main thread can install, and starts
the runtime (attachment.py) on a thread of its own.

The adapter's ticket script (docs/protocol.md, "Attaching") runs this file with TICKET (the
attach's settings and one-time token) and TICKET_PATH in its globals. Imported as a module instead
(loopscope.listen(), `python -m loopscope --listen`), it only provides marker() and
prepare_main_thread(). Parseable by old Pythons, like __init__.py.

The marker module (sys.modules["__loopscope_attach__"]) outlives every attach: it remembers which
tickets ran (a pending call and a late sys.remote_exec may deliver one twice), whether a session
is active, and holds the process-wide trampolines, which keep nothing of any runtime: one per
real-time signal Loopscope uses, and one set of fork callbacks. processhooks.py is the runtime's side.
"""

import sys

MARKER = "__loopscope_attach__"
RUNTIME_PACKAGE = "__loopscope_runtime__"
# The real-time signals that get a trampoline, as signal.NSIG minus these: pausing.PAUSE_SIGNAL and
# timelimit.INTERRUPT_SIGNAL (test_attach.py keeps them equal).
SIGNALS_BELOW_NSIG = (2, 3)
# asyncio's per-iteration method, as asyncio_internals.PATCHED_METHODS names it (Lending puts a wait
# in front of it; this file cannot import the runtime, test_attach.py keeps the two equal).
RUN_ONCE = "_run_once"
# What a ticket holds once it has run (or was given up): nothing, and no token.
USED_TICKET = b"# Loopscope attach ticket: used\n"


def marker():
    """The marker module, made on first use."""
    existing = sys.modules.get(MARKER)
    if existing is not None:
        return existing
    import _thread
    import os
    import signal
    import types
    made = types.ModuleType(MARKER)
    made.__doc__ = "Loopscope's attach marker: see loopscope/bootstrap.py"
    made.tickets = set()       # ids of the tickets that ran here
    made.session = None        # the attached runtime's package name while a session is active
    made.after_fork = []       # the runtime's after-fork callbacks (in the child) while attached
    made.before_fork = []      # ... before a fork, and after it in the parent
    made.after_fork_in_parent = []
    made.handlers = {}         # signal number -> the runtime's handler while attached
    made.trampolines = set()   # signal numbers whose handler is a trampoline of this marker
    made.kicks = set()         # ... sent by release_hooks() where no pending call can be made
    made.lending = None        # the Lending of the runtime starting now, if any
    made.keep_trampolines = False  # listen mode: they stay for the next client (listening.py)
    made.signals = tuple(signal.NSIG - below for below in SIGNALS_BELOW_NSIG)
    lock = _thread.allocate_lock()
    main_ident = _main_thread_ident()

    def trampoline(signum, frame):
        handler = made.handlers.get(signum)
        if handler is None:
            if not made.keep_trampolines:
                if signum in made.kicks:
                    # release_hooks()'s, to get here: this signal gives way, nothing more. Only this
                    # one: the default action of a kick still on its way would end the process.
                    made.kicks.discard(signum)
                    restore_defaults((signum,))
                else:
                    # The program got this signal before restore_defaults() ran: its default
                    # action, as without Loopscope.
                    restore_defaults([other for other in made.trampolines if other not in made.kicks])
                    signal.raise_signal(signum)
            return
        handler(signum, frame)

    def restore_defaults(signums=None):
        """On the main thread, once released: each trampoline (of signums, else every one) gives
        way to the default action."""
        with lock:
            if made.handlers or made.keep_trampolines:
                return  # attached again meanwhile, or listening: they serve the next session
            for signum in list(made.trampolines if signums is None else signums):
                try:
                    if signal.getsignal(signum) is trampoline:
                        signal.signal(signum, signal.SIG_DFL)
                except (OSError, ValueError, RuntimeError):
                    continue
                made.trampolines.discard(signum)

    def handle_signal(signum, handler):
        if signum not in made.trampolines:
            return False
        made.handlers[signum] = handler
        return True

    def interrupt_main(signum):
        with lock:  # never after release_hooks(): the default action of these signals ends the process
            if made.handlers.get(signum) is not None:
                try:
                    signal.pthread_kill(main_ident, signum)
                except (OSError, ValueError):
                    pass

    def release_hooks():
        with lock:
            made.handlers.clear()
            del made.after_fork[:]
            del made.before_fork[:]
            del made.after_fork_in_parent[:]
            if made.keep_trampolines or not made.trampolines:
                return
        # Only the main thread may set a handler. It does so as a pending call, the next time it runs
        # Python code: a signal to wake it would interrupt what it waits in and reach the program's
        # wakeup descriptor (signal.set_wakeup_fd, asyncio's for a loop with signal handlers).
        if not _call_on_main_thread(made, restore_defaults):
            for signum in list(made.trampolines):
                try:
                    made.kicks.add(signum)
                    signal.pthread_kill(main_ident, signum)  # the trampoline restores SIG_DFL itself
                except (OSError, ValueError):
                    pass

    def after_fork_in_child():
        for callback in list(made.after_fork):
            callback()

    def before_fork():
        for callback in reversed(made.before_fork):  # as os.register_at_fork runs "before" hooks
            callback()

    def after_fork_in_parent():
        for callback in list(made.after_fork_in_parent):
            callback()

    made.trampoline = trampoline
    made.handle_signal = handle_signal
    made.interrupt_main = interrupt_main
    made.release_hooks = release_hooks
    if hasattr(os, "register_at_fork"):
        # Once per process: no unregister exists.
        os.register_at_fork(before=before_fork, after_in_parent=after_fork_in_parent, after_in_child=after_fork_in_child)
    sys.modules[MARKER] = made
    return made


def _call_on_main_thread(made, function):
    """Py_AddPendingCall(function): the main thread calls it between two bytecodes. False where
    ctypes is missing. The C callback is kept on the marker: it must outlive the call."""
    try:
        import ctypes
        callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
        add_pending_call = ctypes.PYFUNCTYPE(ctypes.c_int, callback_type, ctypes.c_void_p)(
            ("Py_AddPendingCall", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):
        return False

    def pending(_argument):
        try:
            function()
        except BaseException:  # nothing of Loopscope's may reach the program
            pass
        return 0
    made.pending_call = callback_type(pending)
    return add_pending_call(made.pending_call, None) == 0


def _main_thread_ident():
    threading = sys.modules.get("threading")
    if threading is not None:
        return threading.main_thread().ident
    import _thread
    return _thread.get_ident()  # no threading module yet: this is the only thread


def prepare_main_thread(made):
    """On the main thread: a trampoline for each of Loopscope's signals the program leaves at its
    default action (one that is ours already, from an earlier attach, is kept)."""
    import signal
    for signum in made.signals:
        try:
            current = signal.getsignal(signum)
            if current is made.trampoline:
                made.trampolines.add(signum)
            elif current in (signal.SIG_DFL, None):
                signal.signal(signum, made.trampoline)
                made.trampolines.add(signum)
        except (OSError, ValueError, RuntimeError):
            pass


def load_runtime(runtime_dir):
    """The runtime package, imported by path under a private name: nothing goes on sys.path, and a
    `loopscope` package of the program's own cannot be taken for it."""
    loaded = sys.modules.get(RUNTIME_PACKAGE)
    if loaded is not None:
        return loaded
    import importlib.util
    import os
    package_dir = os.path.join(runtime_dir, "loopscope")
    spec = importlib.util.spec_from_file_location(RUNTIME_PACKAGE, os.path.join(package_dir, "__init__.py"),
                                                  submodule_search_locations=[package_dir])
    module = importlib.util.module_from_spec(spec)
    sys.modules[RUNTIME_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(RUNTIME_PACKAGE, None)
        raise
    return module


def _scrub(path):
    """The ticket's token leaves the disk now; the script that stays is a no-op, so a late second
    delivery (a sys.remote_exec the main thread serves only later) runs nothing and prints nothing.
    That the file changed also tells the injector this script ran."""
    import os
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, USED_TICKET)
        finally:
            os.close(fd)
    except OSError:
        pass


def _refuse(ticket, message):
    """Tell the adapter why the runtime cannot start here (it waits for a hello with its token)."""
    import json
    import socket
    import struct
    hello = {"type": "hello", "token": ticket["token"], "protocolVersion": ticket["protocolVersion"],
             "pid": _pid(), "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable or "",
             "refusal": message}
    data = json.dumps(hello).encode("utf-8")
    try:
        link = socket.create_connection(("127.0.0.1", ticket["port"]), timeout=5)
        try:
            link.sendall(struct.pack(">I", len(data)) + data)
        finally:
            link.close()
    except OSError:
        pass


def _pid():
    import os
    return os.getpid()


# While the runtime starts (its import, the hello, the start request), a loop whose tasks are always
# ready would keep the GIL from its threads (gilturns.py says why; the hello came after 9-32 s on
# 3.8-3.12, the stop 4-8 s later). Until the runtime's hooks take over, the loops are lent to it:
# each waits at its next iteration boundary, LEND_SECONDS at most.
LEND_SECONDS = 3.0
# The attribute of the lending wait that names what it wraps (asyncio_internals unwraps it).
LENDS = "__loopscope_lends__"


class Lending:
    """While a runtime starts, every loop waits at its next iteration boundary until end(). The wait
    wraps BaseEventLoop._run_once on the class; end() puts back what it wrapped, unless the runtime's
    hooks have replaced it meanwhile. Not an attribute of each loop: a key added to a loop's own
    __dict__ (even one deleted again) slows every attribute read of that loop by some 15% for good
    on 3.11 and 3.12; a detached program ran its rounds at 1.14x."""

    def __init__(self):
        import _thread
        import time
        self._monotonic = time.monotonic
        self._until = time.monotonic() + LEND_SECONDS
        self._gate = _thread.allocate_lock()
        self._gate.acquire()
        self._installed = None  # (class, the wait, what it wraps)
        self.over = False

    def start(self):
        """Lend every loop of this process (none if asyncio is not imported, or a lending is on)."""
        base_events = sys.modules.get("asyncio.base_events")
        if self.over or self._installed is not None or base_events is None:
            return
        owner = base_events.BaseEventLoop
        wrapped = vars(owner).get(RUN_ONCE)
        if wrapped is None or getattr(wrapped, LENDS, None) is not None:
            return
        gate, until, monotonic = self._gate, self._until, self._monotonic

        def _run_once(loop):
            left = until - monotonic()
            if left > 0 and gate.acquire(True, left):
                gate.release()
            return wrapped(loop)

        setattr(_run_once, LENDS, wrapped)
        self._installed = (owner, _run_once, wrapped)
        setattr(owner, RUN_ONCE, _run_once)

    def end(self):
        """The runtime's hooks are in (or it gave up): every loop runs on."""
        if self.over:
            return
        self.over = True
        self._gate.release()
        installed, self._installed = self._installed, None
        if installed is not None:
            owner, wait, wrapped = installed
            if vars(owner).get(RUN_ONCE) is wait:
                setattr(owner, RUN_ONCE, wrapped)


def lend_loops(made):
    """The loops wait for the runtime that starts now; returns the Lending (one that is on already,
    the bootstrap's for this attach, is kept)."""
    lending = getattr(made, "lending", None)
    if lending is None or lending.over:
        lending = made.lending = Lending()
        lending.start()
    return lending


# While the runtime imports itself. A program busy in Python code holds the GIL and hands it over
# only every switch interval (5 ms by default), and each of the import's file reads waits for it
# again: 0.4 s where 0.05 s would do. A loop whose tasks are always ready also takes the GIL back
# after each select(0) before the importing thread wakes: at 0.5 ms the hello came after 7.6-15 s
# on 3.12 (rounds of sleep(0) tasks), at 50 us after 0.8 s.
IMPORT_SWITCH_INTERVAL = 0.00005


def _start_runtime(ticket, made, switch_interval):
    """On a thread of Loopscope's own: load the runtime and serve the attach (attachment.py).
    switch_interval: the program's own, put back once the runtime is imported."""
    try:
        _load_and_serve(ticket, made, switch_interval)
    finally:
        _restore_switch_interval(switch_interval)
        lending = getattr(made, "lending", None)
        if lending is not None:
            lending.end()


def _restore_switch_interval(switch_interval):
    # CPython keeps whole microseconds: 5e-05 reads back as 4.9999999999999996e-05.
    if switch_interval is not None and abs(sys.getswitchinterval() - IMPORT_SWITCH_INTERVAL) < 1e-7:
        sys.setswitchinterval(switch_interval)


def _load_and_serve(ticket, made, switch_interval):
    if "asyncio" not in sys.modules:
        # Loading the runtime would import asyncio into a program that does not use it.
        _refuse(ticket, "This program has not imported asyncio, so it runs no event loop for Loopscope to show. "
                        "Attach again once it does.")
        return
    try:
        import importlib
        package = load_runtime(ticket["runtime"]).__name__
        importlib.import_module(package + ".processhooks").use_attach_marker(made)
        attachment = importlib.import_module(package + ".attachment")
        _restore_switch_interval(switch_interval)
        attachment.serve(ticket, made)
    except BaseException as error:  # reported to the adapter, never to the program
        if made.session is None:  # no other session uses the modules
            for name in [n for n in list(sys.modules) if n == RUNTIME_PACKAGE or n.startswith(RUNTIME_PACKAGE + ".")]:
                sys.modules.pop(name, None)
        _refuse(ticket, "Loopscope's runtime could not start in this program: %s: %s" % (type(error).__name__, error))


def attach(ticket, ticket_path):
    import _thread
    made = marker()
    if ticket["id"] in made.tickets:
        return  # delivered twice: the first delivery did the work
    made.tickets.add(ticket["id"])
    _scrub(ticket_path)
    if _thread.get_ident() == _main_thread_ident():
        prepare_main_thread(made)
    lend_loops(made)
    switch_interval = sys.getswitchinterval()
    if switch_interval > IMPORT_SWITCH_INTERVAL:
        sys.setswitchinterval(IMPORT_SWITCH_INTERVAL)
    else:
        switch_interval = None  # the program's own is shorter already: nothing to put back
    _thread.start_new_thread(_start_runtime, (ticket, made, switch_interval))


if __name__ == "__loopscope_bootstrap__":
    try:
        # Taken out of this namespace, which the trampolines keep: the token must not stay reachable.
        attach(globals().pop("TICKET"), globals().pop("TICKET_PATH"))
    except BaseException:
        pass
