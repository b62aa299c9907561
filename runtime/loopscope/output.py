"""Keeps the program's output ahead of the stops that follow it.

stdout and stderr go straight from the program's file descriptors to the adapter's pipes (nothing
is lost even on os._exit), while stops travel over the control channel. Before a stop is sent,
flush_and_drain() flushes Python's buffers and waits until the adapter has read both pipes dry,
so everything printed before a stop is delivered before it. Node gives a child socketpairs for
'pipe' stdio, where the unread bytes are our send queue (TIOCOUTQ); a FIFO reports them with FIONREAD.

When the adapter's client reads slowly, the adapter stops reading the pipes (back-pressure: the
program blocks in write() instead of the adapter buffering without bound) and says so with the
outputHeld request. While the output is held, a stop waits for it however long that takes, rather
than giving up after a second and overtaking output the adapter has not passed on yet.
"""

import fcntl
import os
import stat
import struct
import sys
import termios
import time

_pipe_fds = None
_held = False
# Whether stdout and stderr lead to the adapter: not in a program Loopscope attached to, whose
# output goes wherever it went before (a terminal, a log): nothing to wait for there.
_to_adapter = True
# Saved before user code runs, so a program that patches the time module does not change us.
_sleep = time.sleep
_monotonic = time.monotonic


def _pipes():
    """(fd, ioctl) for stdout and stderr where they lead to a reader we can wait for."""
    global _pipe_fds
    if _pipe_fds is None:
        fds = []
        for fd in (1, 2):
            try:
                mode = os.fstat(fd).st_mode
            except OSError:
                continue
            if stat.S_ISFIFO(mode):
                fds.append((fd, termios.FIONREAD))
            elif stat.S_ISSOCK(mode) and hasattr(termios, "TIOCOUTQ"):
                fds.append((fd, termios.TIOCOUTQ))
        _pipe_fds = tuple(fds)
    return _pipe_fds


def _unread_bytes(fd, request):
    try:
        return struct.unpack("i", fcntl.ioctl(fd, request, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def set_held(held):
    """The adapter holds the program's output back (True) or reads it again (False)."""
    global _held
    _held = bool(held)


def output_goes_elsewhere():
    """Attached: the program's output is not the adapter's to deliver, and its buffers are the
    program's business (a flush could block on a full pipe nobody reads)."""
    global _to_adapter
    _to_adapter = False


def flush_and_drain(timeout=1.0):
    if not _to_adapter:
        return
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass
    deadline = _monotonic() + timeout
    delay = 0.0002
    while _held:  # the adapter has output it has not passed on: wait until it reads again
        _sleep(delay)
        delay = min(delay * 2, 0.01)
        deadline = _monotonic() + timeout
    for fd, request in _pipes():
        while _unread_bytes(fd, request) > 0 and _monotonic() < deadline:
            _sleep(delay)
            delay = min(delay * 2, 0.01)
