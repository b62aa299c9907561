"""The source files line breakpoints are set in, read away from the channel thread: a file that
blocks whoever reads it (a FIFO, a network mount that stopped answering) must not hold up pause,
threads or any other request. Each read runs on a thread of its own and gets READ_TIME_LIMIT
seconds; what is not a regular file is refused without being opened.
"""

import _thread
import os
import stat

from .linetrace import code_lines

READ_TIME_LIMIT = 5.0


class NotASourceFile(Exception):
    """A FIFO, a device or a directory: opening it to read could block for ever."""


class SourceReader:
    def __init__(self, time_limit=READ_TIME_LIMIT, read=code_lines):
        self._time_limit = time_limit
        self._read = read
        self._lock = _thread.allocate_lock()
        self._reads = 0
        self._latest = {}  # path -> the number of its latest read

    def read(self, path, done):
        """Read path's lines with code; done(lines, problem, latest) is called once, on a thread of
        Loopscope's: lines is a set, or None with problem saying why; latest is False if a later read
        of the same path began meanwhile (its answer is the one that counts)."""
        with self._lock:
            self._reads += 1
            number = self._latest[path] = self._reads
        _thread.start_new_thread(self._read_within_limit, (path, number, done))

    def _read_within_limit(self, path, number, done):
        outcome = []
        finished = _thread.allocate_lock()
        finished.acquire()
        _thread.start_new_thread(self._read_file, (path, outcome, finished))
        if finished.acquire(True, self._time_limit):
            lines, problem = outcome[0]
        else:  # the reading thread stays blocked where it is; nothing waits for it any more
            lines, problem = None, ("cannot read %s: reading it took longer than %g s (is it on a network mount "
                                    "that does not answer?)" % (os.path.basename(path), self._time_limit))
        with self._lock:
            latest = self._latest.get(path) == number
            if latest:
                del self._latest[path]
        done(lines, problem, latest)

    def _read_file(self, path, outcome, finished):
        name = os.path.basename(path)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                raise NotASourceFile("%s is not a regular file; line breakpoints go in Python source files" % name)
            outcome.append((self._read(path), None))
        except NotASourceFile as error:
            outcome.append((None, str(error)))
        except Exception as error:  # OSError, SyntaxError, ValueError, RecursionError...: said, not raised
            outcome.append((None, "cannot read %s: %s" % (name, error)))
        finally:
            finished.release()
