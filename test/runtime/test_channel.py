"""Framing (4-byte big-endian length + UTF-8 JSON object) and the protocol.json checks."""

import json
import random
import socket
import struct
import sys
import threading
import unittest

from runtime_support import DEADLINE  # first: puts the runtime on sys.path
from loopscope import channel, forking, gilturns, schema
from loopscope.channel import MAX_OUTGOING_FRAME, ChannelError, FrameDecoder, encode_frame


def frame(payload):
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


REQUEST = {"type": "request", "seq": 7, "command": "resume", "arguments": {"mode": "iteration", "threadId": 1}}
STOPPED = {"reason": "step", "threadId": 1, "loopId": 1, "description": "Held before iteration 2", "label": "step",
           "iteration": 1,
           "time": 12.5, "where": "handle",
           "handle": {"callback": "Task step", "taskId": 3, "taskName": "worker", "coroutine": "worker",
                      "resumeAt": {"path": "/x/y.py", "line": 10}},
           "lastHandle": {"callback": "Future.set_result"}}


class Framing(unittest.TestCase):
    def test_round_trip(self):
        messages = [REQUEST, {"type": "event", "event": "stopped", "body": STOPPED}, {"unicode": "åß∂ 🐍"}, {}]
        data = b"".join(encode_frame(m) for m in messages)
        self.assertEqual(FrameDecoder().feed(data), messages)

    def test_header_is_big_endian_length(self):
        data = encode_frame({"a": 1})
        self.assertEqual(struct.unpack(">I", data[:4])[0], len(data) - 4)
        self.assertEqual(json.loads(data[4:].decode("utf-8")), {"a": 1})

    def test_split_at_every_byte(self):
        messages = [REQUEST, {"x": "y" * 300}, {"n": [1, 2, 3]}]
        data = b"".join(encode_frame(m) for m in messages)
        for cut in range(len(data) + 1):
            decoder = FrameDecoder()
            got = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
            self.assertEqual(got, messages, "cut at %d" % cut)

    def test_one_byte_at_a_time(self):
        messages = [REQUEST, {"type": "request", "seq": 8, "command": "threads"}]
        decoder = FrameDecoder()
        got = []
        for byte in b"".join(encode_frame(m) for m in messages):
            got.extend(decoder.feed(bytes([byte])))
        self.assertEqual(got, messages)

    def test_partial_frame_waits(self):
        data = encode_frame(REQUEST)
        decoder = FrameDecoder()
        self.assertEqual(decoder.feed(data[:2]), [])
        self.assertEqual(decoder.feed(data[2:-1]), [])
        self.assertEqual(decoder.feed(data[-1:]), [REQUEST])
        self.assertEqual(decoder.feed(b""), [])

    def test_oversized_frame_rejected_from_the_header_alone(self):
        decoder = FrameDecoder(max_frame=100)
        with self.assertRaises(ChannelError) as caught:
            decoder.feed(struct.pack(">I", 101))
        self.assertIn("101", str(caught.exception))
        self.assertEqual(FrameDecoder(max_frame=100).feed(frame(b'{"a":"' + b"x" * 92 + b'"}')),
                         [{"a": "x" * 92}])

    def test_default_incoming_limit(self):
        with self.assertRaises(ChannelError):
            FrameDecoder().feed(struct.pack(">I", channel.MAX_INCOMING_FRAME + 1))
        with self.assertRaises(ChannelError):
            FrameDecoder().feed(b"\xff\xff\xff\xff")

    def test_oversized_outgoing_frame(self):
        saved = channel.MAX_OUTGOING_FRAME
        channel.MAX_OUTGOING_FRAME = 50
        try:
            with self.assertRaises(ChannelError):
                encode_frame({"big": "x" * 100})
        finally:
            channel.MAX_OUTGOING_FRAME = saved

    def test_not_json(self):
        for payload in (b"{not json", b"", b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b"{\"a\": 1} trailing", b"NaNx"):
            with self.subTest(payload=payload):
                with self.assertRaises(ChannelError):
                    FrameDecoder().feed(frame(payload))

    def test_not_an_object(self):
        for payload in (b"[]", b"1", b'"text"', b"null", b"true", b"[{}]"):
            with self.subTest(payload=payload):
                with self.assertRaises(ChannelError) as caught:
                    FrameDecoder().feed(frame(payload))
                self.assertIn("object", str(caught.exception))

    def test_good_frame_before_a_bad_one_in_one_chunk(self):
        with self.assertRaises(ChannelError):
            FrameDecoder().feed(frame(REQUEST) + frame(b"[1]"))

    def test_deeply_nested_json_is_a_channel_error(self):
        """A frame under the size limit can nest deeper than json's recursion limit."""
        depth = 100000
        payload = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
        self.assertLess(len(payload), channel.MAX_INCOMING_FRAME)
        with self.assertRaises(ChannelError):
            FrameDecoder().feed(frame(payload))

    def test_lone_surrogates_can_be_sent(self):
        """A str with a lone surrogate (a surrogateescape'd file name, a task name) must still encode."""
        message = {"type": "event", "event": "log", "body": {"level": "info", "message": "file \udcff.py"}}
        data = encode_frame(message)
        self.assertEqual(FrameDecoder().feed(data), [message])


class Fuzz(unittest.TestCase):
    """Whatever arrives, the decoder says ChannelError or returns messages; nothing else escapes."""

    ROUNDS = 1500

    def feed_all(self, decoder, chunks):
        try:
            for chunk in chunks:
                for message in decoder.feed(chunk):
                    self.assertIsInstance(message, dict)
        except ChannelError:
            return "error"
        return "ok"

    def test_random_bytes(self):
        rng = random.Random(20240601)
        outcomes = set()
        for _ in range(self.ROUNDS):
            length = rng.randrange(0, 64)
            payload = bytes(rng.randrange(256) for _ in range(length))
            # a plausible header most of the time, so payloads get decoded rather than refused by size
            if rng.random() < 0.8:
                data = struct.pack(">I", len(payload)) + payload
            else:
                data = bytes(rng.randrange(256) for _ in range(4)) + payload
            cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randrange(3)))
            chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
            outcomes.add(self.feed_all(FrameDecoder(max_frame=1 << 16), chunks))
        self.assertIn("error", outcomes)

    def test_mutated_valid_frames(self):
        rng = random.Random(7)
        seeds = [encode_frame(REQUEST), encode_frame({"type": "event", "event": "stopped", "body": STOPPED}),
                 encode_frame({"a": [1, 2.5, None, True, {"b": "ü"}]})]
        alphabet = b'{}[]",:0123456789.eE+-tfnul\\\x00\xff\xc3'
        outcomes = set()
        for _ in range(self.ROUNDS):
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                where = rng.randrange(len(data))
                action = rng.randrange(4)
                if action == 0:
                    data[where] = rng.randrange(256)
                elif action == 1:
                    data[where] = rng.choice(alphabet)
                elif action == 2 and where >= 4:
                    del data[where]
                else:
                    data.insert(where, rng.choice(alphabet))
            if rng.random() < 0.7 and len(data) >= 4:  # keep the header consistent to reach the JSON parser
                data[:4] = struct.pack(">I", len(data) - 4)
            outcomes.add(self.feed_all(FrameDecoder(), [bytes(data), encode_frame({"after": 1})]))
        self.assertIn("error", outcomes)

    def test_mutated_requests_through_the_schema(self):
        """Well-formed JSON with wrong shapes: check_request says ProtocolError, never anything else."""
        rng = random.Random(99)
        values = [None, True, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, "iteration"]
        requests = [
            {"command": "resume", "arguments": {"mode": "continue", "threadId": 1}},
            {"command": "setFunctionBreakpoints", "arguments": {"breakpoints": [{"name": "f", "hitCondition": "2"}]}},
            {"command": "stackTrace", "arguments": {"threadId": 1, "startFrame": 0, "levels": 20}},
            {"command": "evaluate", "arguments": {"expression": "1+1", "frameId": 3, "context": "repl"}},
            {"command": "setTaskFilters", "arguments": {"filters": ["taskSwitch"]}},
        ]
        for _ in range(self.ROUNDS):
            request = json.loads(json.dumps(rng.choice(requests)))
            arguments = request["arguments"]
            for _ in range(rng.randrange(1, 3)):
                key = rng.choice(list(arguments) + ["extra"])
                if rng.random() < 0.2:
                    arguments.pop(key, None)
                else:
                    arguments[key] = rng.choice(values)
            if rng.random() < 0.1:
                request["arguments"] = rng.choice(values)
            try:
                schema.check_request(request)
            except schema.ProtocolError:
                pass


class SchemaChecks(unittest.TestCase):
    def test_good_requests(self):
        good = [
            {"command": "setFunctionBreakpoints", "arguments": {"breakpoints": [{"name": "worker"},
                                                                                {"name": "f", "hitCondition": ">2",
                                                                                 "condition": "x > 1"}]}},
            {"command": "setTaskFilters", "arguments": {"filters": ["taskSwitch", "taskCreated", "taskDone"]}},
            {"command": "start", "arguments": {"stopOnEntry": True}},
            {"command": "threads"},
            {"command": "threads", "arguments": {}},
            {"command": "resume", "arguments": {"mode": "handle", "threadId": 2}},
            {"command": "resume", "arguments": {"mode": "out"}},
            {"command": "pause", "arguments": {}},
            {"command": "stackTrace", "arguments": {"threadId": 1, "startFrame": 0, "levels": 0}},
            {"command": "scopes", "arguments": {"frameId": 1}},
            {"command": "variables", "arguments": {"variablesReference": 5, "start": 0, "count": 10}},
            {"command": "evaluate", "arguments": {"expression": "x", "frameId": 1, "context": "hover"}},
        ]
        for request in good:
            with self.subTest(request=request):
                schema.check_request(request)

    def test_bad_requests(self):
        bad = [
            {"command": "nope", "arguments": {}},
            {"arguments": {}},
            {"command": "resume", "arguments": {}},
            {"command": "resume", "arguments": {"mode": "sideways"}},
            {"command": "resume", "arguments": {"mode": "continue", "threadId": "1"}},
            {"command": "resume", "arguments": {"mode": "continue", "threadId": True}},
            {"command": "resume", "arguments": {"mode": "continue", "threadId": 1.5}},
            {"command": "resume", "arguments": {"mode": "continue", "bogus": 1}},
            {"command": "start", "arguments": {"stopOnEntry": 1}},
            {"command": "setTaskFilters", "arguments": {"filters": ["taskSwitch", "everything"]}},
            {"command": "setTaskFilters", "arguments": {"filters": "taskSwitch"}},
            {"command": "setFunctionBreakpoints", "arguments": {"breakpoints": [{"condition": "x"}]}},
            {"command": "setFunctionBreakpoints", "arguments": {"breakpoints": [{"name": 3}]}},
            {"command": "evaluate", "arguments": {"frameId": 1}},
            {"command": "threads", "arguments": None},
            {"command": "threads", "arguments": []},
        ]
        for request in bad:
            with self.subTest(request=request):
                with self.assertRaises(schema.ProtocolError):
                    schema.check_request(request)

    def test_events(self):
        schema.check_event("stopped", STOPPED)
        schema.check_event("loopStarted", {"threadId": 1, "name": "Event loop 1 (MainThread)"})
        schema.check_event("loopClosed", {"threadId": 1})
        schema.check_event("continued", {"threadId": 1})
        schema.check_event("log", {"level": "warning", "message": "m"})
        bad = [
            ("nope", {}),
            ("stopped", dict(STOPPED, reason="because")),
            ("stopped", dict(STOPPED, where="somewhere")),
            ("stopped", {k: v for k, v in STOPPED.items() if k != "threadId"}),
            ("stopped", dict(STOPPED, iteration="1")),
            ("stopped", dict(STOPPED, time="now")),
            ("stopped", dict(STOPPED, extra=1)),
            ("stopped", dict(STOPPED, handle={"taskId": 1})),
            ("stopped", dict(STOPPED, handle={"callback": "x", "taskState": "sleeping"})),
            ("stopped", dict(STOPPED, handle={"callback": "x", "resumeAt": {"path": "/a"}})),
            ("stopped", dict(STOPPED, hitBreakpointIds=[1, "2"])),
            ("loopStarted", {"threadId": 1}),
            ("log", {"level": "debug", "message": "m"}),
        ]
        for event, body in bad:
            with self.subTest(event=event, body=body):
                with self.assertRaises(schema.ProtocolError):
                    schema.check_event(event, body)

    def test_responses(self):
        schema.check_response("threads", {"threads": [{"id": 1, "name": "Event loop 1"}]})
        schema.check_response("stackTrace", {"stackFrames": [{"id": 1, "name": "main", "path": "/a.py", "line": 3},
                                                             {"id": 2, "name": "loop", "line": 0,
                                                              "presentationHint": "label"}], "totalFrames": 2})
        schema.check_response("setFunctionBreakpoints", {"breakpoints": [{"id": 1, "verified": False,
                                                                          "message": "why"}]})
        schema.check_response("evaluate", {"result": "2", "type": "int", "variablesReference": 0})
        schema.check_response("resume", {})
        for command, body in [("threads", {}), ("threads", {"threads": [{"id": "1", "name": "x"}]}),
                              ("resume", {"x": 1}), ("evaluate", {"result": 2, "variablesReference": 0}),
                              ("stackTrace", {"stackFrames": [{"id": 1, "name": "f"}], "totalFrames": 1})]:
            with self.subTest(command=command, body=body):
                with self.assertRaises(schema.ProtocolError):
                    schema.check_response(command, body)

    def test_hello(self):
        hello = {"type": "hello", "token": "t", "protocolVersion": schema.PROTOCOL_VERSION, "pid": 1,
                 "python": "3.12.1", "executable": "/usr/bin/python3"}
        schema.check_hello(hello)
        for broken in (dict(hello, type="helo"), dict(hello, pid="1"),
                       {k: v for k, v in hello.items() if k != "token"}, dict(hello, more=1)):
            with self.subTest(hello=broken):
                with self.assertRaises(schema.ProtocolError):
                    schema.check_hello(broken)

    def test_every_declared_ref_resolves(self):
        refs = []

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    refs.append(node["$ref"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(schema.SCHEMA)
        self.assertTrue(refs)
        for ref in refs:
            self.assertIn(ref, schema.SCHEMA["definitions"])

    def test_checking_follows_the_environment(self):
        import os
        self.assertEqual(schema.CHECKING, os.environ.get("LOOPSCOPE_CHECK_PROTOCOL") == "1")


class ChannelOverASocket(unittest.TestCase):
    """A real Channel against a fake adapter on loopback: hello, a request, a response, bad input."""

    def setUp(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.settimeout(DEADLINE)
        self.addCleanup(self.server.close)
        self.requests = []
        self.closed = threading.Event()
        self.close_reason = []
        self.got_request = threading.Event()

    def connect(self):
        port = self.server.getsockname()[1]

        def on_request(message):
            self.requests.append(message)
            self.got_request.set()
            link.send_response(message, {"threads": []})

        def on_close(reason):
            self.close_reason.append(reason)
            self.closed.set()
        link = channel.Channel("127.0.0.1", port, "token-1", on_request, on_close)
        self.addCleanup(link.close)
        peer, _ = self.server.accept()
        peer.settimeout(DEADLINE)
        self.addCleanup(peer.close)
        return link, peer

    def read_messages(self, peer, decoder, count):
        messages = []
        while len(messages) < count:
            data = peer.recv(65536)
            self.assertTrue(data, "connection closed early")
            messages.extend(decoder.feed(data))
        return messages

    def test_hello_request_response(self):
        link, peer = self.connect()
        link.start({"pid": 42, "python": "3.x.y", "executable": "/bin/python"})
        decoder = FrameDecoder()
        (hello,) = self.read_messages(peer, decoder, 1)
        self.assertEqual(hello["type"], "hello")
        self.assertEqual(hello["token"], "token-1")
        self.assertEqual(hello["protocolVersion"], schema.PROTOCOL_VERSION)
        peer.sendall(encode_frame({"type": "request", "seq": 1, "command": "threads", "arguments": {}}))
        (response,) = self.read_messages(peer, decoder, 1)
        self.assertEqual(response, {"type": "response", "request_seq": 1, "command": "threads", "success": True,
                                    "body": {"threads": []}})
        # a schema violation is answered with an error and the channel stays up
        peer.sendall(encode_frame({"type": "request", "seq": 2, "command": "resume", "arguments": {"mode": "x"}}))
        (refused,) = self.read_messages(peer, decoder, 1)
        self.assertFalse(refused["success"])
        self.assertEqual(refused["request_seq"], 2)
        self.assertEqual(len(self.requests), 1)
        link.send_event("loopStarted", {"threadId": 1, "name": "Event loop 1"})
        (event,) = self.read_messages(peer, decoder, 1)
        self.assertEqual(event["event"], "loopStarted")
        # a malformed frame ends the session with a reason
        peer.sendall(struct.pack(">I", 3) + b"[1]")
        self.assertTrue(self.closed.wait(DEADLINE))
        self.assertIn("malformed", self.close_reason[0])

    def test_adapter_hangs_up(self):
        link, peer = self.connect()
        link.start({"pid": 1, "python": "3", "executable": "p"})
        peer.close()
        self.assertTrue(self.closed.wait(DEADLINE))
        self.assertEqual(len(self.close_reason), 1)

    def test_closed_while_serving(self):
        """The serving thread polls the socket beside a wake-up pipe; closing the socket ends it."""
        link, peer = self.connect()
        link.start({"pid": 1, "python": "3", "executable": "p"})
        link.close()
        self.assertTrue(self.closed.wait(DEADLINE))
        self.assertEqual(len(self.close_reason), 1)

    def test_serves_on_after_stepping_aside_for_a_fork(self):
        """The frames before and after the serving thread stepped aside are one stream."""
        link, peer = self.connect()
        link.start({"pid": 1, "python": "3", "executable": "p"})
        decoder = FrameDecoder(max_frame=MAX_OUTGOING_FRAME)
        self.read_messages(peer, decoder, 1)  # the hello
        frame = encode_frame({"type": "request", "seq": 1, "command": "threads", "arguments": {}})
        peer.sendall(frame[:5])
        forking._before_fork()
        forking._after_fork_in_parent()
        peer.sendall(frame[5:])
        (response,) = self.read_messages(peer, decoder, 1)
        self.assertEqual((response["request_seq"], response["success"]), (1, True))

    def test_deeply_nested_frame_closes_the_channel(self):
        """The channel thread must report a hostile frame through on_close, not die with a traceback."""
        died = []
        finished = threading.Event()

        def unraisable(info):  # how an exception that kills a _thread thread is reported
            died.append("%s: %s" % (info.exc_type.__name__, str(info.exc_value)[:100]))
            finished.set()
        saved_hook = sys.unraisablehook
        sys.unraisablehook = unraisable
        self.addCleanup(setattr, sys, "unraisablehook", saved_hook)
        link, peer = self.connect()
        self.closed = finished  # on_close sets it too
        link.start({"pid": 1, "python": "3", "executable": "p"})
        depth = 100000
        peer.sendall(frame(b"[" * depth + b"]" * depth))
        self.assertTrue(finished.wait(DEADLINE), "neither on_close nor a thread death within the deadline")
        self.assertEqual(died, [], "the channel thread died instead of calling on_close")
        self.assertEqual(len(self.close_reason), 1)

    def test_refuses_non_loopback(self):
        with self.assertRaises(ChannelError):
            channel.Channel("10.1.2.3", 9, "t", lambda m: None, lambda r: None)
        with self.assertRaises(ChannelError):
            channel.Channel("example.com", 9, "t", lambda m: None, lambda r: None)


if __name__ == "__main__":
    unittest.main()


class GilTurns(unittest.TestCase):
    """gilturns.Turns: what makes a loop's thread wait for a thread of Loopscope's."""

    def setUp(self):
        self.turns = gilturns.Turns()
        self.ours, self.theirs = socket.socketpair()
        self.addCleanup(self.ours.close)
        self.addCleanup(self.theirs.close)

    def test_bytes_waiting_on_a_watched_descriptor(self):
        self.turns.watch(self.ours.fileno())
        self.assertFalse(self.turns._bytes_waiting())
        self.theirs.sendall(b"request")
        self.assertTrue(self.turns._bytes_waiting())
        self.ours.recv(64)
        self.assertFalse(self.turns._bytes_waiting())

    def test_a_closed_descriptor_never_counts(self):
        """Left registered by mistake, a closed number polls as POLLNVAL: loops must not wait on it."""
        spare = socket.socket()
        self.turns.watch(spare.fileno())
        spare.close()
        self.assertFalse(self.turns._bytes_waiting())

    def test_unwatched_descriptors_and_finished_work_leave_loops_alone(self):
        self.turns.watch(self.ours.fileno())
        self.theirs.sendall(b"request")
        self.turns.unwatch(self.ours.fileno())
        self.assertFalse(self.turns._bytes_waiting())
        with self.turns.working():
            self.assertEqual(self.turns._busy, 1)
        self.assertEqual(self.turns._busy, 0)

    def test_a_channel_watches_its_socket_while_it_serves(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        self.addCleanup(server.close)
        link = channel.Channel("127.0.0.1", server.getsockname()[1], "token", lambda m: None, lambda r: None)
        peer, _ = server.accept()
        self.addCleanup(peer.close)
        fd = link._socket.fileno()
        self.assertNotIn(fd, gilturns.turns._fds)
        link.start({"pid": 1, "python": "3", "executable": "p"})
        self.assertIn(fd, gilturns.turns._fds)
        link.close()
        self.assertNotIn(fd, gilturns.turns._fds)
