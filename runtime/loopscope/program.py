"""Runs the user's program as __main__ exactly as `python PROGRAM` or `python -m MODULE` would.

sys.argv, sys.path[0], __file__, the exit code and the printed traceback of an uncaught exception
all match plain Python; Loopscope's own frames are cut from tracebacks.
"""

import atexit
import builtins
import importlib.machinery
import importlib.util
import io
import linecache
import os
import runpy
import signal
import sys
import types
import zipfile

from . import asyncio_internals as internals
from . import frames as frame_tools

_exit_by_sigint = False


class ProgramNotFound(Exception):
    """The program file or module does not exist; the message says which."""


def check_program(path):
    if not os.path.exists(path):
        raise ProgramNotFound("can't open file %r: [Errno 2] No such file or directory" % os.path.abspath(path))


def check_module(name):
    """Refuse a module that python -m could not find, without running any of the program's code: only
    the top-level name is looked up, which imports nothing. The rest of the lookup imports packages
    (their __init__ is the program's) and is left to run_module, where python -m does it too."""
    top = name.partition(".")[0]
    if not top:
        return  # a relative name: runpy says why not, as python -m does
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as error:
        raise ProgramNotFound("Error while finding module specification for %r (%s: %s)"
                              % (name, type(error).__name__, error))
    if spec is None:
        raise ProgramNotFound("No module named %s" % name)


def first_path_entry(path=None, module=None, code=None):
    """What the interpreter puts in sys.path[0] for `python PATH`, `python -m MODULE` or `python -c CODE`."""
    if module is not None:
        return os.getcwd()
    if code is not None:
        return ""
    if os.path.isdir(path) or not path.endswith((".py", ".pyw")) and _is_zip(path):
        return _script_filename(path)  # a directory or zip is itself the place to import __main__ from
    return os.path.dirname(os.path.realpath(path))


def runs_through_runpy(path=None, module=None):
    """True where the interpreter itself runs the program with runpy: -m, a directory, a zip."""
    return module is not None or path is not None and first_path_entry(path) == _script_filename(path)


def _script_filename(path):
    """Python 3.9+ makes the script's path absolute (in __file__, code objects and a dir/zip's sys.path[0])."""
    return path if not internals.ABSOLUTE_SCRIPT_PATH or os.path.isabs(path) else os.path.join(os.getcwd(), path)


def run_path(path, args, on_uncaught=None):
    """Execute a script file (or a directory or zip with __main__.py) as __main__. on_uncaught(error)
    hears of an exception that ends the program, before Python reports it."""
    sys.argv[:] = [path] + list(args)
    filename = _script_filename(path)
    sys.path[0] = first_path_entry(path)
    if sys.path[0] == filename:
        # as the interpreter does for a directory or zip: import __main__ from it, argv untouched
        _fresh_main()
        return _guarded(lambda: runpy._run_module_as_main("__main__", alter_argv=False), on_uncaught)
    main = _fresh_main()
    main.__file__ = filename
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    open_code = getattr(io, "open_code", None) or (lambda p: open(p, "rb"))

    def execute():
        with open_code(path) as source_file:
            source = source_file.read()
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    return _guarded(execute, on_uncaught)


def _fresh_main():
    """A new, empty __main__ like the interpreter's: Loopscope's own __main__ names must not leak in."""
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins  # a real __main__ holds the module, not its dict
    main.__annotations__ = {}
    sys.modules["__main__"] = main
    return main


def run_module(name, args, on_uncaught=None):
    """Execute a module as __main__, as `python -m` does (on_uncaught: as run_path's)."""
    sys.argv[:] = ["-m"] + list(args)  # while the module is looked up; runpy then puts its file there
    sys.path[0] = first_path_entry(module=name)
    _fresh_main()
    return _guarded(lambda: runpy._run_module_as_main(name, alter_argv=True), on_uncaught)


def run_code(code, args, on_uncaught=None):
    """Execute code given on the command line as __main__, as `python -c` does (how a child process
    of multiprocessing's spawn starts, for one; on_uncaught: as run_path's)."""
    sys.argv[:] = ["-c"] + list(args)
    sys.path[0] = first_path_entry(code=code)
    main = _fresh_main()
    main.__loader__ = importlib.machinery.BuiltinImporter

    def execute():
        compiled = compile(code, "<string>", "exec", dont_inherit=True)
        _show_in_tracebacks(compiled, code)
        exec(compiled, main.__dict__)
    return _guarded(execute, on_uncaught)


def _show_in_tracebacks(compiled, code):
    """From 3.13 python -c gives linecache the code's lines, so that tracebacks show them."""
    if sys.version_info >= (3, 14):
        linecache._register_code(compiled, code, "<string>")
    elif sys.version_info >= (3, 13):
        linecache.cache["<string>"] = (len(code), None, [line + "\n" for line in code.splitlines()], "<string>")


def exit_code(ending):
    """The process's exit status for a SystemExit leaving the program, as the interpreter makes it
    (128 + SIGINT where Python ends itself by SIGINT after an uncaught KeyboardInterrupt)."""
    if _exit_by_sigint:
        return 128 + signal.SIGINT
    code = ending.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1  # a message: printed to stderr, exit status 1


def _is_zip(path):
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _guarded(execute, on_uncaught=None):
    """Run, and report an uncaught exception the way the interpreter would: excepthook, then exit 1
    (on_uncaught(error) hears of it first)."""
    global _exit_by_sigint
    try:
        execute()
    except SystemExit:
        raise
    except BaseException as error:
        _drop_loopscope_frames(error)
        if on_uncaught is not None:
            try:
                on_uncaught(error)
            except Exception:  # the debugger's fault must not change how the program ends
                pass
        sys.excepthook(type(error), error, error.__traceback__)
        if isinstance(error, KeyboardInterrupt):
            _exit_by_sigint = True
        sys.exit(1)


def _drop_loopscope_frames(error):
    """Unlink Loopscope's frames (the runner at the top, the hooks inside the loop) from the traceback of
    error and of the exceptions chained to it. runpy's frames stay: plain python -m shows them too."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.__traceback__ = _without_loopscope(error.__traceback__)
        error = error.__cause__ or error.__context__


def _without_loopscope(tb):
    while tb is not None and _is_ours(tb):
        tb = tb.tb_next
    link = tb
    while link is not None:
        following = link.tb_next
        while following is not None and _is_ours(following):
            following = following.tb_next
        link.tb_next = following
        link = following
    return tb


def _is_ours(tb):
    return frame_tools.is_loopscope_file(tb.tb_frame.f_code.co_filename)


def _finish():
    """Registered first so it runs last: exit by SIGINT after KeyboardInterrupt, as Python does."""
    if _exit_by_sigint:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)


atexit.register(_finish)
