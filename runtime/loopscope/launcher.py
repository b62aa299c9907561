"""Parses the command line, connects to the adapter, installs the hooks and runs the program.

Exit codes of its own (before the program starts): 2 for bad usage or a missing program, as
Python uses; the program's own exit code after that.
"""

import os
import signal
import sys

try:
    import ctypes as _ctypes
except ImportError:  # a build without ctypes
    _ctypes = None

from . import __version__, imports, instrument, listening, outputcopy, processhooks, program, schema, subprocesses, timelimit
from .channel import Channel, ChannelError
from .recordfile import RecordingError
from .commands import CommandHandlers
from .debugger import Debugger
from .perturbation import DEFAULT_JITTER, Perturbation

USAGE = """usage: python -m loopscope [--connect HOST:PORT [--token-file PATH] | --listen [HOST:]PORT [--wait-for-client]]
                          [OPTIONS] (PROGRAM | -m MODULE | -c CODE) [ARGS...]

Runs PROGRAM (or MODULE, or CODE) as __main__ with every asyncio event loop instrumented.
  --connect HOST:PORT  serve a Loopscope debug adapter listening on this loopback address;
                       the one-time token is read from the LOOPSCOPE_TOKEN environment variable
  --listen [HOST:]PORT wait for Loopscope to connect (an attach configuration with "connect"):
                       loopback unless HOST says otherwise; the token goes in a file only this
                       user can read (or is LOOPSCOPE_TOKEN's); each client's detach leaves the
                       program running as it was
  --wait-for-client    with --listen: start the program only once a client has connected
  --token-file PATH    read the token from this file instead, and delete it (a program started in
                       a terminal, where the environment may be shown on the command line)
  -m MODULE            run a module, as python -m does
  -c CODE              run code, as python -c does
  --version            print the runtime version
Without --connect the program runs freely with the hooks installed (useful to check that
Loopscope changes nothing), or, with these options, records or replays its schedule:
  --record FILE        write the run's recording to FILE
  --replay FILE        replay the recording FILE (a divergence is said on stderr)
  --explore SEED       perturb the schedule as `loopscope explore` does, seeded with SEED
  --jitter SECONDS     with --explore: the most a timer is delayed (default 0.001)
  --clock MODE         the loop clock: frozen, wall or virtual (default frozen)"""

_OWN_ENVIRONMENT = ("LOOPSCOPE_TOKEN", "LOOPSCOPE_NONCE", "LOOPSCOPE_CHECK_PROTOCOL", "LOOPSCOPE_HASH_SEED")
# Options of a run without an adapter: option -> (key, how its value is read).
_STANDALONE_OPTIONS = {"--record": ("record", str), "--replay": ("replay", str), "--explore": ("explore", int),
                       "--jitter": ("jitter", float), "--clock": ("clock", str)}


class UsageError(Exception):
    pass


def parse(argv):
    options = {"connect": None, "token_file": None, "listen": None, "wait": False, "module": None, "code": None,
               "program": None, "args": [], "record": None, "replay": None, "explore": None, "jitter": None, "clock": None}
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
        if arg in ("--listen", "--wait-for-client") or arg.startswith("--listen="):
            index = _parse_listen(argv, index, options)
            continue
        if arg in _STANDALONE_OPTIONS:
            key, kind = _STANDALONE_OPTIONS[arg]
            if index + 1 >= len(argv):
                raise UsageError("%s needs a value" % arg)
            try:
                options[key] = kind(argv[index + 1])
            except ValueError:
                raise UsageError("%s takes a %s, not %r" % (arg, "number" if kind is not str else "value", argv[index + 1]))
            index += 2
            continue
        if arg == "--token-file":
            if index + 1 >= len(argv):
                raise UsageError("--token-file needs a path")
            options["token_file"] = argv[index + 1]
            index += 2
            continue
        if arg in ("-m", "-c"):
            if index + 1 >= len(argv):
                raise UsageError("-m needs a module name" if arg == "-m" else "-c needs the code to run")
            options["module" if arg == "-m" else "code"] = argv[index + 1]
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


def _parse_listen(argv, index, options):
    """--listen [HOST:]PORT, --listen=[HOST:]PORT, --wait-for-client; returns the next index."""
    arg = argv[index]
    if arg == "--wait-for-client":
        options["wait"] = True
        return index + 1
    if arg == "--listen":
        if index + 1 >= len(argv):
            raise UsageError("--listen needs [HOST:]PORT")
        options["listen"] = argv[index + 1]
        return index + 2
    options["listen"] = arg.split("=", 1)[1]
    return index + 1


def _listen_address(text):
    host, _, port = text.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise UsageError("--listen wants [HOST:]PORT, got %r" % text)
    return host.strip("[]") or "127.0.0.1", int(port)


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
    token, nonce, hash_seed = _take_own_environment()
    try:
        options = parse(sys.argv[1:])
        address = _address(options["connect"]) if options["connect"] else None
        listen_at = _listen_address(options["listen"]) if options["listen"] else None
        if listen_at and address:
            raise UsageError("--connect and --listen exclude each other")
        if options["wait"] and not listen_at:
            raise UsageError("--wait-for-client goes with --listen")
        if options["token_file"]:
            token = _take_token_file(options["token_file"])
    except UsageError as error:
        _fail("%s\n%s" % (error, USAGE))
    # The program's own sys.path[0] from here on, so that what it names is looked up where Python would.
    sys.path[0] = program.first_path_entry(options["program"], options["module"], options["code"])
    try:
        if options["module"]:
            program.check_module(options["module"])
        elif options["code"] is None:
            program.check_program(options["program"])
    except program.ProgramNotFound as error:
        _fail(str(error), 1 if options["module"] else 2)

    if listen_at is not None:
        return _run_listening(listen_at, options)
    channel = None
    debugger = Debugger(lambda event, body: channel.send_event(event, body) if channel is not None else None)
    debugger.hash_seed = hash_seed
    debugger.program = os.path.abspath(options["program"]) if options["program"] else _describe_target(options)
    if address is not None:
        debugger.connected = True
        if not token:
            _fail("--connect needs the one-time token in LOOPSCOPE_TOKEN (the adapter sets it)")
        handlers = CommandHandlers(debugger, lambda: channel)
        try:
            channel = Channel(address[0], address[1], token, handlers.handle, _on_channel_closed)
        except ChannelError as error:
            _fail(str(error))
        hello = {"pid": os.getpid(), "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
                 "target": _describe_target(options)}
        if nonce:
            hello.update(nonce=nonce, parentPid=os.getppid())
        channel.start(hello)
        handlers.started.wait()
        if handlers.ended_before_start:  # terminated while waiting for its start: as if by Ctrl+C before it began
            _tell_exit(channel, 128 + signal.SIGINT)
            os._exit(128 + signal.SIGINT)
        if not debugger.closing:
            _start_options(handlers.start_arguments, channel)
    elif options["record"] or options["replay"] or options["explore"] is not None:
        _start_standalone(debugger, options)
    if not debugger.closing:  # detached before it started (a child process no session took): runs plain
        instrument.install(debugger)
        debugger.install_busy_pause()
        timelimit.install_interrupt()
        if channel is not None:
            # The debugger goes quiet in a forked child by itself; the child's copy of the socket goes too.
            processhooks.after_fork_in_child(channel.abandon)
        debugger.tracer.sync_thread()  # line breakpoints set before start apply from the first line

    # The program starts with the modules a plain run starts with: python -m (and a directory or zip
    # program) has imported runpy by then.
    imports.hand_over(("runpy",) if program.runs_through_runpy(options["program"], options["module"]) else ())
    try:
        _run_program(options, debugger)
    except SystemExit as ending:
        _tell_exit(channel, program.exit_code(ending))
        raise
    _tell_exit(channel, 0)


def _run_program(options, debugger=None):
    """The program, as __main__: a file, a module (python -m) or code (python -c). debugger: the
    session's, which hears of an exception that ends the program (listen mode has none yet)."""
    on_uncaught = debugger.uncaught_at_top if debugger is not None else None
    if options["module"]:
        program.run_module(options["module"], options["args"], on_uncaught)
    elif options["code"] is not None:
        program.run_code(options["code"], options["args"], on_uncaught)
    else:
        program.run_path(options["program"], options["args"], on_uncaught)


def _start_standalone(debugger, options):
    """A run without an adapter that records, replays or explores; what Loopscope says goes to stderr."""
    debugger.say = lambda message: _say(message)
    perturbation = None
    if options["explore"] is not None:
        jitter = options["jitter"] if options["jitter"] is not None else DEFAULT_JITTER
        perturbation = Perturbation(options["explore"], jitter)
    arguments = {key: options[key] for key in ("record", "replay", "clock") if options[key] is not None}
    arguments["trackOwners"] = False  # no views to show owners in
    try:
        debugger.start(arguments, perturbation)
    except (RecordingError, ValueError) as error:
        _fail(str(error))


def _say(message):
    try:
        sys.stderr.write("loopscope: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


def _start_options(arguments, channel):
    """What the start request asked for besides the debugger's settings: output copied to the
    adapter, child processes debugged too. Set up here, before the program's first line."""
    if arguments.get("copyOutput"):
        outputcopy.install(channel.send_event)
    children = arguments.get("subProcesses")
    if children:
        subprocesses.install(children["port"], children["key"], schema.CHECKING,
                             lambda message: channel.send_event("log", {"level": "warning", "message": message}))


def _tell_exit(channel, code):
    """The exiting event, for an adapter that cannot see the exit itself (a program in a terminal)."""
    if channel is None:
        return
    try:
        channel.send_event("exiting", {"code": code})
    except Exception:
        pass  # the connection is gone: nobody to tell


def _describe_target(options):
    if options["module"]:
        return "-m %s" % options["module"]
    if options["code"] is not None:
        return "-c"
    return options["program"]


def _take_token_file(path):
    """The token from the file the adapter wrote for a program it asked a terminal to start; the file
    (and the private directory the adapter made for it) is deleted: the token is good once."""
    try:
        with open(path, "r") as token_file:
            token = token_file.read().strip()
    except OSError as error:
        raise UsageError("cannot read the token file %s: %s" % (path, error.strerror or error))
    try:
        os.unlink(path)
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass  # the adapter deletes it too
    return token


def _take_own_environment():
    """Loopscope's variables, taken out of the environment: out of os.environ (so no child inherits
    them) and, for the token, out of the process's environment block too, which /proc/self/environ
    shows and which unsetenv leaves as it was. Returns the token, the nonce a child process's token
    was made from (subprocesses.py), and the hash seed the program runs with if one is set
    (PYTHONHASHSEED, which is taken out too when Loopscope set it: LOOPSCOPE_HASH_SEED says so)."""
    token = os.environ.get("LOOPSCOPE_TOKEN", "")
    nonce = os.environ.get("LOOPSCOPE_NONCE", "")
    if token:
        _blank_in_environment_block("LOOPSCOPE_TOKEN")
    given = os.environ.get("PYTHONHASHSEED")
    hash_seed = int(given) if given is not None and given.isdigit() else None
    if given is not None and os.environ.get("LOOPSCOPE_HASH_SEED") == given:
        os.environ.pop("PYTHONHASHSEED", None)
    for name in _OWN_ENVIRONMENT:
        os.environ.pop(name, None)
    return token, nonce, hash_seed


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


def _run_listening(address, options):
    """Listen mode (listening.py): sessions come and go while the program runs; each installs
    Loopscope when it starts and takes it out again when it ends."""
    try:
        listening.start_listening(address[0], address[1], options["wait"])
    except (listening.ListenError, listening.privatefiles.UnsafeDirectory, OSError) as error:
        _fail(str(error))
    os.environ.pop("LOOPSCOPE_CHECK_PROTOCOL", None)
    _run_program(options)


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


