"""Exceptions that end a thread: the debugger hears of each before threading reports it, on the
thread it ends, while the exception and its frames are still there.

threading gives every Thread, when it is made, the function that calls threading.excepthook for
it (_make_invoke_excepthook); that function is wrapped, so the program's own excepthook is still
the one called, whenever the program sets it. It costs one call when a thread is made, and nothing
while threads run. (Exceptions that end the program at module level come from program.py; those a
loop's callback raises, from instrument.py's hook on call_exception_handler.)
"""

import sys
import threading

_original = getattr(threading, "_make_invoke_excepthook", None)
_listener = None  # (thread, exception) -> None, or None


def listen(listener):
    """listener(thread, exception) hears of exceptions that end threads; None: nobody does."""
    global _listener
    _listener = listener
    if _original is not None and threading._make_invoke_excepthook is _original:
        threading._make_invoke_excepthook = _make_invoke_excepthook


def _make_invoke_excepthook():
    invoke = _original()
    exc_info = sys.exc_info

    def invoke_excepthook(thread):
        listener = _listener
        if listener is not None:
            try:
                listener(thread, exc_info()[1])
            except Exception:  # the debugger's fault must not change how the thread ends
                pass
        return invoke(thread)
    return invoke_excepthook
