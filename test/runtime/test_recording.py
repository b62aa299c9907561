"""Recording and replay in the runtime without an adapter (python -m loopscope --record/--replay/
--explore): the file format and its errors, explore's perturbations keeping what asyncio promises,
and real programs (threads handing the loop callbacks, a replay that diverges) run as processes."""

import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

from runtime_support import REPO, RUNTIME
from loopscope import recordfile, tapes
from loopscope.perturbation import Perturbation
from loopscope.tapes import LoopTape

TIMETRAVEL = os.path.join(REPO, "test", "fixtures", "timetravel")
DEADLINE = 60


def run(*args, cwd=None):
    # Without an adapter the hash seed is the user's to fix (counter.py prints a set of strings).
    env = dict(os.environ, PYTHONPATH=RUNTIME, PYTHONHASHSEED="1919")
    env.pop("LOOPSCOPE_CHECK_PROTOCOL", None)
    return subprocess.run([sys.executable, "-m", "loopscope"] + list(args), cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=DEADLINE)


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="loopscope-rec-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)


class RecordingFile(Scratch):
    def write_tape(self, chunks):
        writer = recordfile.RecordingWriter(self.path("t.lsrec"), {"program": "p.py"})
        tape = LoopTape(0)
        for iterations in chunks:
            for _ in range(iterations):
                tape.readyMarks.append(len(tape.ready))
                tape.ready.extend([1, -1])
                tape.timeMarks.append(len(tape.times))
                tape.times.append(float(len(tape.times)))
                tape.iterations += 1
            chunk = tape.chunk()
            writer.write({"kind": "chunk", "names": [], "loops": [chunk] if chunk is not None else []})
        writer.close({"iterations": {"0": tape.iterations}})
        return tape

    def test_a_tape_written_in_chunks_reads_back_the_same(self):
        # The first chunk may come before any iteration (a stop at entry): its marks must not shift.
        written = self.write_tape([0, 3, 2])
        read = recordfile.read(self.path("t.lsrec")).tape(0)
        self.assertEqual(list(read.timeMarks), list(written.timeMarks))
        self.assertEqual(list(read.readyMarks), list(written.readyMarks))
        self.assertEqual([read.bucket(k) for k in range(7)], [written.bucket(k) for k in range(7)])

    def test_errors_say_what_is_wrong_and_what_to_do(self):
        self.write_tape([2])
        with open(self.path("t.lsrec"), "rb") as source:
            good = source.read()
        cases = {
            "missing": (None, "does not exist; record a run first"),
            "empty": (b"", "is empty"),
            "text": (b"hello\n", "is not a Loopscope recording"),
            "flipped": (good[:-3] + bytes([good[-3] ^ 0xFF]) + good[-2:], "fails its checksum"),
        }
        for name, (content, message) in cases.items():
            if content is not None:
                with open(self.path(name), "wb") as target:
                    target.write(content)
            with self.assertRaises(recordfile.RecordingError) as caught:
                recordfile.read(self.path(name))
            self.assertIn(message, str(caught.exception), name)

    def test_a_format_1_file_reads_back_the_same(self):
        """Format 1 kept arrays as JSON numbers; format 2 packs them (tapes.pack)."""
        written = self.write_tape([3, 2])
        frames, _ = recordfile._frames(self.path("t.lsrec"), open(self.path("t.lsrec"), "rb").read())
        frames[0]["format"] = 1
        for frame in frames[1:]:
            for body in frame.get("loops", ()):
                for name, kind in tapes._ARRAYS.items():
                    if name in body:
                        self.assertIsInstance(body[name], str, name)
                        body[name] = tapes.unpack(kind, body[name]).tolist()
        with open(self.path("old.lsrec"), "wb") as target:
            target.write(recordfile.MAGIC)
            for frame in frames:
                data = zlib.compress(json.dumps(frame).encode("utf-8"))
                target.write(struct.pack(">I", len(data)) + data)
        read = recordfile.read(self.path("old.lsrec")).tape(0)
        for name in ("ready", "readyMarks", "times", "timeMarks"):
            self.assertEqual(list(getattr(read, name)), list(getattr(written, name)), name)

    def test_packed_arrays_that_do_not_unpack_are_damage(self):
        for packed in ("not base64!", "AAAA"):  # bad characters; 3 bytes, not a whole double
            with self.assertRaises(ValueError):
                tapes.unpack("d", packed)

    def test_a_file_cut_short_replays_as_far_as_it_goes(self):
        self.write_tape([2, 2])
        with open(self.path("t.lsrec"), "rb") as source:
            data = source.read()
        with open(self.path("cut.lsrec"), "wb") as target:
            target.write(data[:-10])
        recording = recordfile.read(self.path("cut.lsrec"))
        self.assertIsNotNone(recording.cut_short)
        self.assertIsNone(recording.end)


class Perturbations(unittest.TestCase):
    def test_interleaving_keeps_each_sources_own_order(self):
        groups = [3, 0, 2, 4]
        seen = set()
        for seed in range(200):
            order = Perturbation(seed).interleave(groups)
            if order is None:
                continue
            seen.add(tuple(order))
            self.assertEqual(sorted(order), list(range(9)))
            starts = [0, 3, 3, 5]
            for start, size in zip(starts, groups):
                own = [index for index in order if start <= index < start + size]
                self.assertEqual(own, sorted(own), "a source's handles stay in the order it queued them")
        self.assertGreater(len(seen), 20, "many interleavings are tried")

    def test_one_source_is_never_reordered(self):
        for seed in range(50):
            self.assertIsNone(Perturbation(seed).interleave([5]))
            self.assertIsNone(Perturbation(seed).interleave([0, 4, 0]))

    def test_timers_are_only_ever_later(self):
        perturbation = Perturbation(7, jitter=0.002)
        delays = [perturbation.timer_delay() for _ in range(1000)]
        self.assertTrue(all(0.0 <= delay <= 0.002 for delay in delays))
        self.assertEqual(Perturbation(0, jitter=0).timer_delay(), 0.0)

    def test_the_same_seed_makes_the_same_decisions(self):
        first, second = Perturbation(42), Perturbation(42)
        self.assertEqual([first.interleave([2, 3]) for _ in range(20)], [second.interleave([2, 3]) for _ in range(20)])
        self.assertEqual(first.io_order(6), second.io_order(6))


class RecordAndReplayPrograms(Scratch):
    def test_a_replay_prints_what_the_recorded_run_printed_and_names_another_program(self):
        recorded = run("--record", self.path("c.lsrec"), os.path.join(TIMETRAVEL, "counter.py"))
        self.assertEqual(recorded.returncode, 0, recorded.stderr)
        replayed = run("--replay", self.path("c.lsrec"), os.path.join(TIMETRAVEL, "counter.py"))
        self.assertEqual((replayed.returncode, replayed.stdout, replayed.stderr), (0, recorded.stdout, ""))
        other = run("--replay", self.path("c.lsrec"), os.path.join(TIMETRAVEL, "race.py"))
        self.assertIn("is of %s, not of %s" % (os.path.join(TIMETRAVEL, "counter.py"), os.path.join(TIMETRAVEL, "race.py")),
                      other.stderr)
        self.assertIn("diverged from the recording", other.stderr)

    def test_callbacks_from_threads_replay_at_the_same_iteration(self):
        program = self.path("threads.py")
        with open(program, "w") as source:
            source.write(THREADS)
        recorded = run("--record", self.path("t.lsrec"), program)
        self.assertEqual(recorded.returncode, 0, recorded.stderr)
        for _ in range(2):
            replayed = run("--replay", self.path("t.lsrec"), program)
            self.assertEqual((replayed.stdout, replayed.stderr), (recorded.stdout, ""))

    def test_explore_decisions_replay(self):
        race = os.path.join(TIMETRAVEL, "race.py")
        failing = None
        for seed in range(1, 60):
            result = run("--explore", str(seed), "--record", self.path("r.lsrec"), race)
            if result.returncode != 0:
                failing = result
                break
        self.assertIsNotNone(failing, "some seed interleaves the race into failing")
        self.assertIn("sold 1 tickets too many", failing.stderr)
        for _ in range(3):
            replayed = run("--replay", self.path("r.lsrec"), race)
            self.assertEqual(replayed.returncode, 1)
            self.assertIn("sold 1 tickets too many", replayed.stderr)

    def test_a_server_replays_without_its_client(self):
        """Accepted connections are on the tape: the server replays with nobody connecting, the
        port it printed included (the replay's own listening socket has another)."""
        server = os.path.join(TIMETRAVEL, "line_server.py")
        env = dict(os.environ, PYTHONPATH=RUNTIME)
        env.pop("LOOPSCOPE_CHECK_PROTOCOL", None)
        recording = subprocess.Popen([sys.executable, "-m", "loopscope", "--record", self.path("s.lsrec"), server],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.addCleanup(recording.kill)
        port = recording.stdout.readline().strip()  # printed once it listens
        self.assertTrue(port.isdigit(), recording.stderr.read() if not port else port)
        client = subprocess.run([sys.executable, os.path.join(TIMETRAVEL, "echo_client.py"), port],
                                stdout=subprocess.PIPE, universal_newlines=True, timeout=DEADLINE)
        self.assertEqual(client.stdout, "echo ALPHA\necho BETA\necho GAMMA\nclosed\n")
        rest, errors = recording.communicate(timeout=DEADLINE)
        self.assertEqual((recording.returncode, errors), (0, ""))
        self.assertEqual(rest, "got alpha\ngot beta\ngot gamma\nserved\n")
        for _ in range(2):
            replayed = run("--replay", self.path("s.lsrec"), server)
            self.assertEqual((replayed.returncode, replayed.stdout, replayed.stderr), (0, port + "\n" + rest, ""))

    def test_datagram_endpoints_replay(self):
        """A datagram server and client: what each received is on the tape, so the replies (with
        their random digits) and the server's port come out as recorded."""
        program = os.path.join(TIMETRAVEL, "udp_pair.py")
        recorded = run("--record", self.path("u.lsrec"), program)
        self.assertEqual(recorded.returncode, 0, recorded.stderr)
        self.assertRegex(recorded.stdout, r"^ALPHA\d\nBETA\d\nGAMMA\d\nport \d+\n$")
        for _ in range(2):
            replayed = run("--replay", self.path("u.lsrec"), program)
            self.assertEqual((replayed.returncode, replayed.stdout, replayed.stderr), (0, recorded.stdout, ""))

    def test_random_bytes_drawn_on_the_loop_replay(self):
        """os.urandom, secrets (through random's own reference) and uuid4 on the loop's thread are on
        the tape; a draw with no loop running is not (it differs in the replay)."""
        program = self.path("bytes.py")
        with open(program, "w") as source:
            source.write(RANDOM_BYTES)
        recorded = run("--record", self.path("b.lsrec"), program)
        self.assertEqual(recorded.returncode, 0, recorded.stderr)
        on_loop, off_loop = recorded.stdout.rsplit("\n", 2)[:2]
        for _ in range(2):
            replayed = run("--replay", self.path("b.lsrec"), program)
            self.assertEqual((replayed.returncode, replayed.stderr), (0, ""))
            again_on_loop, again_off_loop = replayed.stdout.rsplit("\n", 2)[:2]
            self.assertEqual(again_on_loop, on_loop)
            self.assertNotEqual(again_off_loop, off_loop)

    def test_a_missing_recording_is_a_usage_error(self):
        replayed = run("--replay", self.path("none.lsrec"), os.path.join(TIMETRAVEL, "counter.py"))
        self.assertEqual(replayed.returncode, 2)
        self.assertIn("does not exist; record a run first", replayed.stderr)
        self.assertEqual(replayed.stdout, "")


# Worker threads hand results to the loop at moments the OS decides: the replay lets each in at the
# iteration the recording says, so the interleaving of their prints with the ticker's is the same.
THREADS = """
import asyncio, random, time

async def ticker(done):
    n = 0
    while not done.is_set():
        n += 1
        await asyncio.sleep(0)
    print("ticks", n)

async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    tick = asyncio.ensure_future(ticker(done))
    results = await asyncio.gather(*(loop.run_in_executor(None, time.sleep, random.random() / 100) for _ in range(4)))
    done.set()
    await tick
    print("results", results)

asyncio.run(main())
"""


if __name__ == "__main__":
    unittest.main()


# Random bytes from the OS, on the loop's thread (recorded) and before any loop runs (not recorded).
RANDOM_BYTES = """
import asyncio, os, secrets, uuid

before = os.urandom(8).hex()


async def main():
    await asyncio.sleep(0)
    return " ".join([os.urandom(4).hex(), secrets.token_hex(4), str(uuid.uuid4())])

print(asyncio.run(main()))
print(before)
"""
