"""The CPython versions Loopscope supports, read from protocol.json ("pythons"), the one place
they are declared: the runtime's test runner and the CPython peer suite both ask here.
Runs under any Python 3."""

import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOCOL = os.path.join(REPO, "runtime", "loopscope", "protocol.json")


def _version(text):
    return tuple(int(part) for part in text.split("."))


def supported():
    """[(3, 8), (3, 9), ...]: every minor version from the oldest supported to the newest."""
    with open(PROTOCOL, "r", encoding="utf-8") as source:
        pythons = json.load(source)["pythons"]
    oldest, newest = _version(pythons["oldest"]), _version(pythons["newest"])
    return [(oldest[0], minor) for minor in range(oldest[1], newest[1] + 1)]


def label():
    """'3.8-3.15'."""
    versions = supported()
    return "%d.%d-%d.%d" % (versions[0] + versions[-1])
