"""Reading the files of line breakpoints away from the channel thread: each read has a time limit,
what is not a regular file is never opened, and of two reads of one file the later has the say."""

import os
import queue
import shutil
import tempfile
import threading
import unittest

from runtime_support import DEADLINE
from loopscope.sourcefiles import SourceReader


class Answers:
    """done() of SourceReader.read, collecting what it was told."""

    def __init__(self):
        self.queue = queue.Queue()

    def __call__(self, lines, problem, latest):
        self.queue.put((lines, problem, latest))

    def next(self):
        return self.queue.get(timeout=DEADLINE)


class ReadingSourceFiles(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="loopscope-sources-")
        self.addCleanup(shutil.rmtree, self.directory)

    def path(self, name, text=None):
        path = os.path.join(self.directory, name)
        if text is not None:
            with open(path, "w") as source:
                source.write(text)
        return path

    def test_lines_with_code(self):
        answers = Answers()
        SourceReader().read(self.path("a.py", "x = 1\n\ndef f():\n    return x\n"), answers)
        self.assertEqual(answers.next(), ({1, 3, 4}, None, True))

    def test_a_fifo_is_refused_unopened(self):
        if not hasattr(os, "mkfifo"):
            self.skipTest("no FIFOs here")
        fifo = self.path("pipe.py")
        os.mkfifo(fifo)
        answers = Answers()
        SourceReader().read(fifo, answers)
        lines, problem, _latest = answers.next()
        self.assertIsNone(lines)
        self.assertIn("pipe.py is not a regular file", problem)

    def test_a_read_that_never_ends_is_answered_at_the_time_limit(self):
        stuck = threading.Event()
        self.addCleanup(stuck.set)

        def read(_path):  # a file on a network mount that stopped answering
            stuck.wait()
        answers = Answers()
        SourceReader(time_limit=0.2, read=read).read(self.path("remote.py", ""), answers)
        lines, problem, latest = answers.next()
        self.assertIsNone(lines)
        self.assertIn("reading it took longer than 0.2 s", problem)
        self.assertTrue(latest)

    def test_a_later_read_of_the_same_file_has_the_say(self):
        first_entered, release_first = threading.Event(), threading.Event()
        self.addCleanup(release_first.set)

        def read(_path):
            if not first_entered.is_set():  # the first read: slow, until the second one has answered
                first_entered.set()
                release_first.wait(DEADLINE)
                return {1}
            return {2}
        reader, path = SourceReader(read=read), self.path("b.py", "")
        first, second = Answers(), Answers()
        reader.read(path, first)
        self.assertTrue(first_entered.wait(DEADLINE))
        reader.read(path, second)
        self.assertEqual(second.next(), ({2}, None, True))
        release_first.set()
        self.assertEqual(first.next(), ({1}, None, False))

    def test_syntax_errors_are_said(self):
        answers = Answers()
        SourceReader().read(self.path("bad.py", "def (:\n"), answers)
        lines, problem, _latest = answers.next()
        self.assertIsNone(lines)
        self.assertTrue(problem.startswith("cannot read bad.py: "), problem)


if __name__ == "__main__":
    unittest.main()
