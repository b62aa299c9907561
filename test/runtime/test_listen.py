"""Listen mode, under the interpreter running this suite: `python -m loopscope --listen` and
loopscope.listen() inside a program. A client proves the one-time token from the token file only
its user can read; each session's detach leaves the program running; tokens are good for one
session; a second client is turned away; --wait-for-client holds the program until a client starts."""

import os
import re
import stat
import unittest

from attach_support import AdapterSide, Target
from runtime_support import REPO, RUNTIME, clean_environment

from loopscope import privatefiles
from loopscope.vocabulary import ATTACH_FILES

LISTENS = os.path.join(REPO, "test", "fixtures", "attach", "listens.py")
LISTENING = re.compile(r"loopscope: listening on ([\d.]+):(\d+) \(token in (\S+), readable by this user only\)")


class ListenMode(unittest.TestCase):
    def listening(self, mode, *options):
        """python -m loopscope --listen 127.0.0.1:0 [options] target.py MODE: (target, port, token file)."""
        target = Target(mode, env=clean_environment(PYTHONPATH=RUNTIME), interpreter_options=(
            ["-m", "loopscope", "--listen", "127.0.0.1:0"] + list(options)), wait_ready=False)
        self.addCleanup(target.stop)
        match = LISTENING.search(target.stderr_line("loopscope: listening on"))
        self.assertIsNotNone(match, "".join(target.stderr))
        return target, int(match.group(2)), match.group(3)

    def token(self, path):
        with open(path) as handle:
            return handle.read().strip()

    def session(self, port, token_file):
        client = AdapterSide(self)
        hello = client.connect(port, self.token(token_file))
        self.assertIsNotNone(hello, "the listener refused its own token")
        self.assertNotIn("refusal", hello)
        return client

    def test_sessions_come_and_go_with_one_time_tokens(self):
        target, port, token_file = self.listening("idle")
        target.next_line("READY")
        facts = os.stat(token_file)
        self.assertEqual((stat.S_IMODE(facts.st_mode), facts.st_uid), (0o600, os.getuid()))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(token_file)).st_mode), 0o700)
        used = self.token(token_file)
        first = self.session(port, token_file)
        self.assertTrue(first.hello["attached"])
        first.start()
        self.assertEqual(first.next_event("stopped")["label"], "attached")
        self.assertEqual(first.body("snapshot")["loops"][0]["state"], "paused")
        second = AdapterSide(self)
        busy = second.connect(port, self.token(token_file))
        self.assertIn("Another debug session is connected", busy["refusal"])
        first.detach()
        self.assertEqual(target.state()["patched"], [])
        self.assertIsNone(AdapterSide(self).connect(port, used), "a used token let a client in again")
        self.assertIsNone(AdapterSide(self).connect(port, "0" * 64), "a wrong token let a client in")
        again = self.session(port, token_file)
        again.start()
        self.assertEqual(again.next_event("stopped")["label"], "attached")
        again.detach()
        self.assertEqual(target.state()["patched"], [])

    def test_wait_for_client_holds_the_program_until_a_session_starts(self):
        target, port, token_file = self.listening("idle", "--wait-for-client")
        client = self.session(port, token_file)
        client.start(stopOnEntry=True)
        stopped = client.next_event("stopped")
        self.assertEqual((stopped["reason"], stopped["where"]), ("entry", "iteration"))
        client.body("resume", {"mode": "continue"})
        target.next_line("READY")
        client.detach()
        self.assertEqual(target.state()["patched"], [])

    def test_listen_from_inside_the_program(self):
        target = Target("-", program=LISTENS, env=clean_environment(PYTHONPATH=RUNTIME))
        self.addCleanup(target.stop)
        port = int(target.ready_words[2])
        client = self.session(port, os.path.join(privatefiles.directory(), ATTACH_FILES["listenTokenFile"].format(port=port)))
        client.start()
        self.assertEqual(client.next_event("stopped")["where"], "iteration")
        client.detach()
        state = target.state()
        self.assertEqual(state["patched"], [])
        self.assertEqual(state["trace"], "None")


if __name__ == "__main__":
    unittest.main()
