"""The process-wide hooks Loopscope needs: handlers of its real-time signals on the main thread, and
what a forked child must do. Installed directly when Loopscope started the program; through the
attach bootstrap's trampolines when it attached, so that detach leaves none of them behind.

signal.signal works only on the main thread, and os.register_at_fork has no unregister: a runtime
that joined a running program from its own thread can do neither itself. The bootstrap (which runs
on the main thread) installs one trampoline per signal and one after-fork trampoline per process,
holding nothing of the runtime; the runtime hands them its handlers here and takes them back at
detach (see bootstrap.py for the trampolines' side).
"""

import os
import signal

_marker = None  # the bootstrap's marker module while attached (bootstrap.py), else None


def use_attach_marker(marker):
    """Route every hook through the bootstrap's trampolines (before any other runtime module is imported)."""
    global _marker
    _marker = marker


def after_fork_in_child(callback):
    """callback() runs in a child process forked from this one."""
    at_fork(after_in_child=callback)


def at_fork(before=None, after_in_parent=None, after_in_child=None):
    """As os.register_at_fork, undone at detach. A marker from an older attach has no before and
    after-in-parent lists: those callbacks are then left out (nothing stops a fork without them)."""
    if _marker is not None:  # cleared at detach: the trampolines then do nothing
        for callback, name in ((before, "before_fork"), (after_in_parent, "after_fork_in_parent"),
                               (after_in_child, "after_fork")):
            callbacks = getattr(_marker, name, None)
            if callback is not None and callbacks is not None:
                callbacks.append(callback)
    elif hasattr(os, "register_at_fork"):
        given = {"before": before, "after_in_parent": after_in_parent, "after_in_child": after_in_child}
        os.register_at_fork(**{name: callback for name, callback in given.items() if callback is not None})


def handle_signal(signum, handler):
    """handler(signum, frame) runs on the main thread when signum arrives. Only where the program
    leaves the signal alone (its default action); returns whether the handler is in place."""
    if _marker is not None:
        return _marker.handle_signal(signum, handler)
    if signal.getsignal(signum) not in (signal.SIG_DFL, None):
        return False
    signal.signal(signum, handler)
    return True


def interrupt_main(signum, main_ident):
    """Send signum to the main thread, whose handler (handle_signal) takes it; False if it could not
    be sent. Never once detached: the default action of a real-time signal ends the process."""
    if _marker is not None:
        _marker.interrupt_main(signum)
        return True
    try:
        signal.pthread_kill(main_ident, signum)
    except (OSError, ValueError):
        return False
    return True


def release():
    """Detach: every handler and after-fork callback goes; the signals return to their default action."""
    if _marker is not None:
        _marker.release_hooks()
