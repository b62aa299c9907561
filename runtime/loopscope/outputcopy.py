"""redirectOutput with a terminal console: what the program writes to sys.stdout and sys.stderr goes
to the terminal as before, and a copy goes to the adapter as output events (the Debug Console).

As debugpy does, the copy is taken where Python writes, by wrapping the two text streams: a write
from C to file descriptor 1, or a child process's output, reaches the terminal only. The wrappers
pass everything else (isatty(), encoding, buffer, fileno()) to the streams they wrap.
"""

import sys


class CopiedStream:
    """A text stream whose writes also go out as output events of one category."""

    def __init__(self, stream, category, send_event):
        self._stream = stream
        self._category = category
        self._send_event = send_event

    def write(self, text):
        written = self._stream.write(text)
        if isinstance(text, str) and text:
            try:
                self._send_event("output", {"category": self._category, "output": text})
            except Exception:
                pass  # the copy is a convenience: the program's own write has happened
        return written

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __iter__(self):
        return iter(self._stream)

    def __repr__(self):
        return repr(self._stream)


def install(send_event):
    """Wrap sys.stdout and sys.stderr before the program runs (sys.__stdout__ and sys.__stderr__
    stay the streams Python made)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None:
            setattr(sys, name, CopiedStream(stream, name, send_event))
