"""Knocking one thread out of a blocking system call, with nothing the program can see.

PTRACE_SEIZE + PTRACE_INTERRUPT + waitpid + PTRACE_DETACH on the thread (ctypes, stdlib only): the
thread stops for a fraction of a millisecond and runs on. epoll_wait() then returns EINTR (signal(7):
it is one of the calls that fail so after a stop), and Python's retry (PEP 475) calls
PyErr_CheckSignals(), which from 3.14 also runs a script sys.remote_exec() left pending. Most other
waits (select, poll, sleep, locks, read) are restarted by the kernel unseen: then nothing runs.
Unlike SIGSTOP + SIGCONT, no shell reports the program as stopped.
"""

import ctypes
import errno
import os

_PTRACE_DETACH = 17
_PTRACE_SEIZE = 0x4206
_PTRACE_INTERRUPT = 0x4207
_WALL = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)


def _ptrace(request, tid):
    if _libc.ptrace(request, tid, None, None) == -1:
        number = ctypes.get_errno()
        raise OSError(number, "ptrace(%#x, %d): %s" % (request, tid, os.strerror(number)))


def kick(tid):
    """Interrupt thread tid (a process's main thread: its pid) once. Raises OSError when this
    process may not trace it."""
    _ptrace(_PTRACE_SEIZE, tid)
    try:
        _ptrace(_PTRACE_INTERRUPT, tid)
        while True:
            try:
                os.waitpid(tid, _WALL)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    finally:
        try:
            _ptrace(_PTRACE_DETACH, tid)
        except OSError as error:
            if error.errno != errno.ESRCH:
                raise
