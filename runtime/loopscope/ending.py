"""How a debug session ends for the program, once Debugger.close() has taken Loopscope out of it:
terminate interrupts it as Ctrl+C would, detach leaves it running with its output sent to a file.

Both run on the channel thread, which runs none of the program's code: the interrupt is a signal
to the main thread, whose own handler (Python's KeyboardInterrupt, or the program's) runs there.
"""

import os
import signal
import sys
import threading
import time

from . import frames as frame_tools
from . import output

# How long the interrupt waits for a released hold to unwind out of Loopscope's frames first.
LEAVE_HOOKS_TIME_LIMIT = 0.5
MAIN_IDENT = threading.main_thread().ident
_monotonic = time.monotonic
_sleep = time.sleep


def interrupt_main_thread():
    """SIGINT to the main thread, as Ctrl+C in a terminal: a call blocked in C there (select(),
    sleep) returns, and the handler runs, which raises KeyboardInterrupt unless the program set its
    own (asyncio.run's, from 3.11, cancels the main task first). A hold that was just released is
    let out of Loopscope's frames first, so that the interrupt lands in the program's code, not
    between a hook and the handle it was about to run."""
    deadline = _monotonic() + LEAVE_HOOKS_TIME_LIMIT
    while _in_loopscope(MAIN_IDENT) and _monotonic() < deadline:
        _sleep(0.001)
    try:
        signal.pthread_kill(MAIN_IDENT, signal.SIGINT)
    except (OSError, ValueError):  # the main thread has ended: the process is on its way out
        pass


def interrupt_this_thread():
    """SIGINT to the calling thread, handled before this returns: on the main thread, Python's
    handler raises KeyboardInterrupt here (or the program's own handler runs); Loopscope's frames
    are dropped from the traceback the user sees (program.py)."""
    signal.raise_signal(signal.SIGINT)


def _in_loopscope(ident):
    frame = sys._current_frames().get(ident)
    return frame is not None and frame_tools.is_loopscope_file(frame.f_code.co_filename)


def redirect_output(path):
    """From now on the program's stdout and stderr (file descriptors 1 and 2) write to a new file
    at path (made only for this user), or to /dev/null if it cannot be made. Python's buffers are
    flushed to the old place first. Returns why path could not be used, or None."""
    output.flush_python_streams()
    problem = None
    try:
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        problem = "cannot write %s (%s); the output goes to /dev/null" % (path, error.strerror or error)
        target = os.open(os.devnull, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        for fd in (1, 2):
            os.dup2(target, fd)  # dup2 leaves 1 and 2 inheritable, as they were
    finally:
        os.close(target)
    return problem
