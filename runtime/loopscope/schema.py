"""Checks runtime<->adapter messages against protocol.json, the protocol's one declaration.

The check runs when LOOPSCOPE_CHECK_PROTOCOL=1 (the test suites set it); in normal use
messages are trusted to be well-formed because both sides are generated from the schema.
"""

import json
import os

from .vocabulary import EVENT_NAMES, PROTOCOL_VERSION, REQUEST_NAMES  # noqa: F401 (re-exported)

_SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.json")

with open(_SCHEMA_PATH, "r", encoding="utf-8") as _f:
    SCHEMA = json.load(_f)

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
_NUMBERS = (int, float)


class ProtocolError(ValueError):
    """A message that does not match protocol.json."""


def check(value, schema, where="message"):
    """Raise ProtocolError naming the first place where value breaks schema."""
    if "$ref" in schema:
        schema = SCHEMA["definitions"][schema["$ref"]]
    expected = schema.get("type")
    if expected is not None and not _TYPES[expected](value):
        raise ProtocolError("%s: expected %s, got %r" % (where, expected, type(value).__name__))
    if "enum" in schema and value not in schema["enum"]:
        raise ProtocolError("%s: %r is not one of %s" % (where, value, schema["enum"]))
    if "minimum" in schema and isinstance(value, _NUMBERS) and value < schema["minimum"]:
        raise ProtocolError("%s: %r is below the minimum %r" % (where, value, schema["minimum"]))
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        raise ProtocolError("%s: shorter than %d characters" % (where, schema["minLength"]))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise ProtocolError("%s: missing %r" % (where, name))
        for name, item in value.items():
            if name in properties:
                check(item, properties[name], "%s.%s" % (where, name))
            elif schema.get("additionalProperties", True) is False:
                raise ProtocolError("%s: unexpected field %r" % (where, name))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(item, schema["items"], "%s[%d]" % (where, index))


def check_request(message):
    command = message.get("command")
    if command not in REQUEST_NAMES:
        raise ProtocolError("unknown request %r" % (command,))
    check(message.get("arguments", {}), SCHEMA["requests"][command]["arguments"], command + ".arguments")


def check_response(command, body):
    check(body, SCHEMA["requests"][command]["body"], command + ".body")


def check_event(event, body):
    if event not in EVENT_NAMES:
        raise ProtocolError("unknown event %r" % (event,))
    check(body, SCHEMA["events"][event], event)


def check_hello(message):
    check(message, SCHEMA["hello"], "hello")


def check_client_hello(message):
    check(message, SCHEMA["definitions"]["ClientHello"], "the client's hello")


CHECKING = os.environ.get("LOOPSCOPE_CHECK_PROTOCOL") == "1"
