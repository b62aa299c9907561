"""Getting the attach ticket run with sys.remote_exec (CPython 3.14+), from the program's own
interpreter (the helper must be the same minor version; the adapter starts it as such).

sys.remote_exec only asks the main thread to run the script at its next safe point. An asyncio
loop idle in epoll_wait() never reaches one: a ptrace kick (ptrace_kick.py) makes that call return
and retry, which runs the script. A main thread waiting in join(), sleep(), a lock or select()
is not reached even so: the caller then falls back to gdb with the same ticket (a late run of it
finds the ticket used and does nothing).
"""

import os
import sys
import time

from ..vocabulary import InjectionFailure as Failure
from .failures import InjectionFailed
from .ptrace_kick import kick

# How long the main thread gets to run the script after the kick before gdb takes over.
WAIT = 0.3


def available():
    return hasattr(sys, "remote_exec")


def inject(pid, ticket_path, wait=WAIT):
    """True if the main thread ran the ticket within wait seconds, False if it did not (yet); raises
    InjectionFailed when the program refuses code from outside or may not be reached."""
    size = os.stat(ticket_path).st_size
    try:
        sys.remote_exec(pid, ticket_path)
    except PermissionError:
        raise InjectionFailed(Failure.NOT_PERMITTED, _NOT_PERMITTED % {"pid": pid})
    except RuntimeError as error:
        if "not enabled" in str(error):
            raise InjectionFailed(Failure.REMOTE_DEBUG_DISABLED, (
                "Process %d was started with PYTHON_DISABLE_REMOTE_DEBUG set or with -X disable-remote-debug: it "
                "does not let any code in from outside, so Loopscope can only read it. Start it without that "
                "setting to debug it." % pid))
        return False  # gdb may still get in (and will say what is wrong if not)
    except OSError:
        return False
    try:
        kick(pid)
    except OSError:
        pass  # gdb will say what is wrong
    return _ticket_used(ticket_path, size, wait)


def _ticket_used(path, size, wait):
    """The bootstrap rewrites the ticket as its first act (bootstrap.py _scrub)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if os.stat(path).st_size != size:
                return True
        except OSError:
            return True  # gone: someone used it
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


_NOT_PERMITTED = ("This user may not read or change process %(pid)d: Loopscope needs the same user as the program "
                  "(or root), a dumpable program, and no other debugger attached; where Yama restricts ptrace "
                  "(/proc/sys/kernel/yama/ptrace_scope 1 or more) run as root or set it to 0.")
