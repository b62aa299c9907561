"""Runs the user's program as __main__ exactly as `python PROGRAM` or `python -m MODULE` would.

sys.argv, sys.path[0], __file__, the exit code and the printed traceback of an uncaught exception
all match plain Python; Loopscope's own frames are cut from tracebacks.
"""

import atexit
import importlib.machinery
import io
import os
import runpy
import signal
import sys
import types

from . import frames as frame_tools

_exit_by_sigint = False


class ProgramNotFound(Exception):
    """The program file or module does not exist; the message says which."""


def check_program(path):
    if not os.path.exists(path):
        raise ProgramNotFound("can't open file %r: [Errno 2] No such file or directory" % os.path.abspath(path))


def check_module(name):
    import importlib.util
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        raise ProgramNotFound("Error while finding module specification for %r (%s: %s)"
                              % (name, type(error).__name__, error))
    if spec is None:
        raise ProgramNotFound("No module named %s" % name)


def run_path(path, args):
    """Execute a script file (or a directory or zip with __main__.py) as __main__."""
    sys.argv[:] = [path] + list(args)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    if os.path.isdir(path) or not path.endswith((".py", ".pyw")) and _is_zip(path):
        sys.path[0] = path
        return _guarded(lambda: runpy.run_path(path, run_name="__main__"))
    main = types.ModuleType("__main__")
    main.__file__ = path if sys.version_info < (3, 9) else os.path.abspath(path)
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__builtins__ = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
    sys.modules["__main__"] = main
    open_code = getattr(io, "open_code", None) or (lambda p: open(p, "rb"))

    def execute():
        with open_code(path) as source_file:
            source = source_file.read()
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    return _guarded(execute)


def run_module(name, args):
    """Execute a module as __main__, as `python -m` does."""
    sys.argv[:] = [name] + list(args)  # runpy replaces argv[0] with the module's file
    sys.path[0] = os.getcwd()
    return _guarded(lambda: runpy._run_module_as_main(name, alter_argv=True))


def _is_zip(path):
    import zipfile
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _guarded(execute):
    """Run, and report an uncaught exception the way the interpreter would: excepthook, then exit 1."""
    global _exit_by_sigint
    try:
        execute()
    except SystemExit:
        raise
    except BaseException as error:
        tb = _without_loopscope(error.__traceback__)
        error.__traceback__ = tb
        sys.excepthook(type(error), error, tb)
        if isinstance(error, KeyboardInterrupt):
            _exit_by_sigint = True
        sys.exit(1)


def _without_loopscope(tb):
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _is_ours(filename):
    return frame_tools.is_loopscope_file(filename) or filename == runpy.__file__ or filename.startswith("<frozen runpy")


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
