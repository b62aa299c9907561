"""Parses the command line, connects to the adapter, installs the hooks and runs the program.

Exit codes of its own (before the program starts): 2 for bad usage or a missing program, as
Python uses; the program's own exit code after that.
"""

import os
import sys

try:
    import ctypes as _ctypes
except ImportError:  # a build without ctypes
    _ctypes = None

from . import __version__, imports, instrument, program, schema, timelimit
from .channel import Channel, ChannelError
from .commands import CommandHandlers
from .debugger import Debugger

USAGE = """usage: python -m loopscope [--connect HOST:PORT] (PROGRAM | -m MODULE) [ARGS...]

Runs PROGRAM (or MODULE) as __main__ with every asyncio event loop instrumented.
  --connect HOST:PORT  serve a Loopscope debug adapter listening on this loopback address;
                       the one-time token is read from the LOOPSCOPE_TOKEN environment variable
  -m MODULE            run a module, as python -m does
  --version            print the runtime version
Without --connect the program runs freely with the hooks installed (useful to check that
Loopscope changes nothing)."""

_OWN_ENVIRONMENT = ("LOOPSCOPE_TOKEN", "LOOPSCOPE_CHECK_PROTOCOL")


class UsageError(Exception):
    pass


def parse(argv):
    options = {"connect": None, "module": None, "program": None, "args": []}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if arg == "--version":
            print("loopscope %s" % __version__)
            sys.exit(0)
        if arg == "--connect":
            if index + 1 >= len(argv):
                raise UsageError("--connect needs HOST:PORT")
            options["connect"] = argv[index + 1]
            index += 2
            continue
        if arg.startswith("--connect="):
            options["connect"] = arg.split("=", 1)[1]
            index += 1
            continue
        if arg == "-m":
            if index + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            options["module"] = argv[index + 1]
            options["args"] = argv[index + 2:]
            return options
        if arg == "--":
            index += 1
            arg = argv[index] if index < len(argv) else None
            if arg is None:
                break
        elif arg.startswith("-"):
            raise UsageError("unknown option %s" % arg)
        options["program"] = arg
        options["args"] = argv[index + 1:]
        return options
    raise UsageError("no program to run")


def _address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError("--connect wants HOST:PORT, got %r" % text)
    return host.strip("[]"), int(port)


def _fail(message, code=2):
    sys.stderr.write("loopscope: %s\n" % message)
    sys.stderr.flush()
    sys.exit(code)


def main():
    # First, before anything that could run the program's code: a package's __init__ must not find
    # the token (it could connect to the adapter first and pass for the runtime).
    token = _take_own_environment()
    try:
        options = parse(sys.argv[1:])
        address = _address(options["connect"]) if options["connect"] else None
    except UsageError as error:
        _fail("%s\n%s" % (error, USAGE))
    # The program's own sys.path[0] from here on, so that what it names is looked up where Python would.
    sys.path[0] = program.first_path_entry(options["program"], options["module"])
    try:
        if options["module"]:
            program.check_module(options["module"])
        else:
            program.check_program(options["program"])
    except program.ProgramNotFound as error:
        _fail(str(error), 1 if options["module"] else 2)

    channel = None
    debugger = Debugger(lambda event, body: channel.send_event(event, body) if channel is not None else None)
    if address is not None:
        if not token:
            _fail("--connect needs the one-time token in LOOPSCOPE_TOKEN (the adapter sets it)")
        handlers = CommandHandlers(debugger, lambda: channel)
        try:
            channel = Channel(address[0], address[1], token, handlers.handle, _on_channel_closed)
        except ChannelError as error:
            _fail(str(error))
        channel.start({"pid": os.getpid(), "python": "%d.%d.%d" % sys.version_info[:3],
                       "executable": sys.executable})
        handlers.started.wait()
    instrument.install(debugger)
    debugger.install_busy_pause()
    timelimit.install_interrupt()
    if channel is not None and hasattr(os, "register_at_fork"):
        # The debugger goes quiet in a forked child by itself; the child's copy of the socket goes too.
        os.register_at_fork(after_in_child=channel.abandon)
    debugger.tracer.sync_thread()  # line breakpoints set before start apply from the first line

    # The program starts with the modules a plain run starts with: python -m (and a directory or zip
    # program) has imported runpy by then.
    imports.hand_over(("runpy",) if program.runs_through_runpy(options["program"], options["module"]) else ())
    if options["module"]:
        program.run_module(options["module"], options["args"], debugger.uncaught_at_top)
    else:
        program.run_path(options["program"], options["args"], debugger.uncaught_at_top)


def _take_own_environment():
    """Loopscope's variables, taken out of the environment: out of os.environ (so no child inherits
    them) and, for the token, out of the process's environment block too, which /proc/self/environ
    shows and which unsetenv leaves as it was. Returns the token."""
    token = os.environ.get("LOOPSCOPE_TOKEN", "")
    if token:
        _blank_in_environment_block("LOOPSCOPE_TOKEN")
    for name in _OWN_ENVIRONMENT:
        os.environ.pop(name, None)
    return token


def _blank_in_environment_block(name):
    """Overwrite the variable's value where the C library keeps it, in place, with zeros."""
    if _ctypes is None:
        return
    try:
        getenv = _ctypes.CDLL(None).getenv
        getenv.restype, getenv.argtypes = _ctypes.c_void_p, (_ctypes.c_char_p,)
        address = getenv(name.encode())
        if address:
            _ctypes.memset(address, ord("0"), len(_ctypes.string_at(address)))
    except (OSError, AttributeError, ValueError):
        pass  # no C library to ask: the value stays in the block, as on platforms without /proc


def _on_channel_closed(reason):
    """The adapter is gone: end the program and everything it started, as closing a terminal would."""
    try:
        sys.stderr.write("loopscope: %s; ending the program.\n" % reason)
        sys.stderr.flush()
    except Exception:
        pass  # stderr may lead to the adapter that just went away
    if os.getpgid(0) == os.getpid():
        os.killpg(os.getpid(), 9)
    os._exit(1)


