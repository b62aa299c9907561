"""Hostile input on the runtime's side (issue #15, 10-12): numbers JSON cannot carry, answers over
the frame limit, an answer that fails on the held thread, a slow reader of the program's output."""

import asyncio
import json
import math
import socket
import threading
import types
import unittest

from runtime_support import DEADLINE  # first: puts the runtime on sys.path
from loopscope import channel, clock, commands, debugger as debugger_module, output
from loopscope.channel import Channel, ChannelError, FrameDecoder, FrameTooLarge, encode_frame
from loopscope.holding import Holding


def decode(frame):
    return json.loads(frame[4:].decode("utf-8"))


class StrictJson(unittest.TestCase):
    def test_non_finite_numbers_become_null(self):
        frame = encode_frame({"when": math.inf, "dueIn": -math.inf, "x": [math.nan, 1.5], "ok": 2})
        self.assertNotIn(b"Infinity", frame)
        self.assertNotIn(b"NaN", frame)
        self.assertEqual(decode(frame), {"when": None, "dueIn": None, "x": [None, 1.5], "ok": 2})

    def test_the_decoder_refuses_what_is_not_json(self):
        for text in (b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}'):
            with self.assertRaises(ChannelError):
                FrameDecoder().feed(len(text).to_bytes(4, "big") + text)

    def test_a_frame_over_the_limit_says_how_big(self):
        saved = channel.MAX_OUTGOING_FRAME
        channel.MAX_OUTGOING_FRAME = 100
        try:
            with self.assertRaises(FrameTooLarge) as caught:
                encode_frame({"x": "y" * 200})
            self.assertGreater(caught.exception.size, 200)
        finally:
            channel.MAX_OUTGOING_FRAME = saved


class Answers(unittest.TestCase):
    """A real Channel on loopback, the test playing the adapter."""

    def setUp(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.channel = Channel("127.0.0.1", self.server.getsockname()[1], "t", lambda _m: None, lambda _r: None)
        self.peer, _ = self.server.accept()
        self.peer.settimeout(DEADLINE)
        self.decoder = FrameDecoder(max_frame=1 << 30)
        self.saved = channel.MAX_OUTGOING_FRAME

    def tearDown(self):
        channel.MAX_OUTGOING_FRAME = self.saved
        self.channel.close()
        self.peer.close()
        self.server.close()

    def receive(self):
        while True:
            messages = self.decoder.feed(self.peer.recv(65536))
            if messages:
                return messages[0]

    def test_an_answer_over_the_limit_becomes_an_error_response(self):
        channel.MAX_OUTGOING_FRAME = 1 << 20
        variable = {"name": "x" * 100, "value": "1", "variablesReference": 0}
        self.channel.send_response({"seq": 4, "command": "variables"}, {"variables": [variable] * 20000})
        answer = self.receive()
        self.assertEqual((answer["request_seq"], answer["success"]), (4, False))
        self.assertRegex(answer["message"], r"^the answer to variables is \d+ MiB, over the 1 MiB the control channel "
                                            r"carries; ask for less at a time$")

    def unchecked(self):
        """The schema check (on in tests) would refuse these bodies before they are encoded."""
        saved, channel.schema.CHECKING = channel.schema.CHECKING, False
        self.addCleanup(setattr, channel.schema, "CHECKING", saved)

    def test_an_answer_that_is_not_json_becomes_an_error_response(self):
        self.unchecked()
        self.channel.send_response({"seq": 5, "command": "evaluate"}, {"result": object(), "variablesReference": 0})
        answer = self.receive()
        self.assertEqual((answer["request_seq"], answer["success"]), (5, False))
        self.assertIn("could not be encoded: TypeError", answer["message"])

    def test_an_event_that_cannot_be_sent_is_told_as_a_log(self):
        self.unchecked()
        self.channel.send_event("loopStarted", {"threadId": 1, "name": object()})
        event = self.receive()
        self.assertEqual(event["event"], "log")
        self.assertIn("could not send its loopStarted event", event["body"]["message"])


class HeldThread(unittest.TestCase):
    def test_an_answer_that_fails_does_not_leave_the_held_loop(self):
        holding = Holding()
        stop = types.SimpleNamespace(inbox=__import__("queue").Queue())
        answers = []

        def failing_done(_result, _error):
            raise FrameTooLarge(1 << 30)
        holding.post(stop, lambda: {"big": 1}, failing_done)
        holding.post(stop, lambda: {"small": 1}, lambda result, error: answers.append((result, error)))
        holding.wake([stop])
        holding.serve(stop)  # returns only at the wake-up: the failure above did not escape
        self.assertEqual(answers, [({"small": 1}, None)])


class LoopClock(unittest.TestCase):
    def setUp(self):
        self.clock = clock.Clock()
        self.clock.mode = "frozen"

    def test_advance_refuses_non_finite_negative_and_absurd_amounts(self):
        for seconds, why in ((math.inf, "finite"), (math.nan, "finite"), (True, "finite"), ("5", "finite"),
                             (-1, "only moves forward"), (1e308, "at most 1e\\+09 s")):
            with self.assertRaisesRegex(ValueError, why):
                self.clock.advance(seconds)
        self.assertEqual(self.clock.offset, 0.0)
        self.clock.advance(5)
        self.assertEqual(self.clock.offset, -5.0)

    def test_autojump_never_jumps_to_infinity(self):
        loop = asyncio.new_event_loop()
        try:
            state = types.SimpleNamespace(clock_skew=0.0)
            loop.call_at(math.inf, lambda: None)
            clock.autojump(loop, state)
            self.assertEqual(state.clock_skew, 0.0)
            loop.call_later(10, lambda: None)
            clock.autojump(loop, state)
            self.assertTrue(9 < state.clock_skew <= 10, state.clock_skew)
        finally:
            loop.close()


class Budgets(unittest.TestCase):
    def test_variables_refuses_more_than_a_page_at_once(self):
        answers = []
        fake_channel = types.SimpleNamespace(send_response=lambda request, body=None, error=None: answers.append(error))
        handlers = commands.CommandHandlers(types.SimpleNamespace(), lambda: fake_channel)
        handlers.handle({"seq": 1, "command": "variables", "arguments": {"variablesReference": 1, "count": 500000}})
        self.assertRegex(answers[0], r"at most 10000 variables at a time, not 500000: ask for them in pages")

    def test_threads_leaves_out_the_tasks_that_would_not_fit(self):
        async def main():
            tasks = [asyncio.ensure_future(asyncio.sleep(3600)) for _ in range(200)]
            for i, task in enumerate(tasks):
                task.set_name("t%03d-%s" % (i, "x" * 300)) if hasattr(task, "set_name") else None
            saved = debugger_module.MAX_OUTGOING_FRAME
            debugger_module.MAX_OUTGOING_FRAME = 2 * 50 * 232  # room for about 50 names (cut to 200 characters)
            try:
                return debug.threads()
            finally:
                debugger_module.MAX_OUTGOING_FRAME = saved
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        debug = debugger_module.Debugger(lambda event, body: None)
        debug.start({"maxTaskThreads": 1000000, "clock": "wall"})
        from loopscope import instrument
        instrument.install(debug)
        try:
            threads, left_out = asyncio.run(main())
        finally:
            instrument.uninstall()
        self.assertTrue(45 <= len(threads) <= 56, len(threads))
        self.assertEqual(len(threads) - 1 + left_out, 201)  # a loop, the main task and the 200 sleepers
        self.assertTrue(all(len(t["name"]) <= 200 for t in threads))


class HeldOutput(unittest.TestCase):
    def test_a_stop_waits_while_the_adapter_holds_the_output(self):
        output.set_held(True)
        finished = threading.Event()
        thread = threading.Thread(target=lambda: (output.flush_and_drain(timeout=0.05), finished.set()))
        thread.start()
        try:
            self.assertFalse(finished.wait(0.5), "flush_and_drain gave up while the output was held")
        finally:
            output.set_held(False)
        self.assertTrue(finished.wait(DEADLINE))
        thread.join()


if __name__ == "__main__":
    unittest.main()
