"""The recording file: how a run's schedule is kept on disk, and read back with a clear word for
every way a file can be wrong (missing, empty, not a recording, cut short, edited).

    LSREC 1\\n                      magic line
    frame, frame, ...               each: 4-byte big-endian length, then zlib-compressed JSON

The first frame is the header (kind "header": the program, Python, seeds, what explore did); then
chunks (kind "chunk": for each loop the part of its tape appended since the last chunk, and the
callback names first used in it); the last frame (kind "end") says the run ended and how. zlib's
checksum catches any byte changed inside a frame. A file without its end frame is a run that was
cut short (killed, or still running): it replays as far as it goes.
"""

import json
import os
import struct
import threading
import zlib

from .tapes import LoopTape

MAGIC = b"LSREC 1\n"
FORMAT_VERSION = 2  # 2: a chunk's arrays as packed bytes (tapes.py); format 1 files are read too
_READABLE_FORMATS = (1, 2)
# zlib's fastest level: the default (6) took 15 ms at a loop's close for 30,000 clock readings,
# level 1 3 ms, and the file grew by some 10%.
_COMPRESSION = 1
_LENGTH = struct.Struct(">I")
MAX_FRAME_BYTES = 1 << 30  # a frame longer than this is not one Loopscope wrote


class RecordingError(Exception):
    """A recording that cannot be replayed; the message says why and what to do."""


class RecordingWriter:
    """Appends frames to a recording; thread-safe (each loop flushes from its own thread)."""

    def __init__(self, path, header):
        self.path = path
        self._lock = threading.Lock()
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)
            self._file = open(path, "wb")
        except OSError as error:
            raise RecordingError("cannot write the recording %s: %s" % (path, error.strerror or error))
        self._file.write(MAGIC)
        self.write(dict(header, kind="header", format=FORMAT_VERSION))

    def write(self, frame):
        data = zlib.compress(json.dumps(frame, separators=(",", ":"), allow_nan=False).encode("utf-8"), _COMPRESSION)
        with self._lock:
            if self._file is None:
                return
            self._file.write(_LENGTH.pack(len(data)))
            self._file.write(data)
            self._file.flush()

    def close(self, end=None):
        with self._lock:
            if self._file is None:
                return
        if end is not None:
            self.write(dict(end, kind="end"))
        with self._lock:
            self._file.close()
            self._file = None

    def abandon(self):
        """In a forked child: the parent owns the file; the child's copy closes without a word."""
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError:
                    pass
                self._file = None


class Recording:
    """A recording read back: its header, each loop's tape, the callback names, how it ended."""

    def __init__(self, path, header):
        self.path = path
        self.header = header
        self.loops = {}      # loop index -> LoopTape
        self.names = []      # callback names, code -1 first
        self.end = None      # the end frame, None if the run was cut short
        self.cut_short = None  # why the file stops early, when it does

    def tape(self, index):
        return self.loops.get(index)


def read(path):
    """The Recording at path; RecordingError says what is wrong with it."""
    try:
        with open(path, "rb") as source:
            data = source.read()
    except FileNotFoundError:
        raise RecordingError("the recording %s does not exist; record a run first (\"record\": true in launch.json, "
                             "or loopscope trace --record FILE)" % path)
    except IsADirectoryError:
        raise RecordingError("%s is a directory, not a recording" % path)
    except OSError as error:
        raise RecordingError("cannot read the recording %s: %s" % (path, error.strerror or error))
    if not data:
        raise RecordingError("the recording %s is empty: the run that made it wrote nothing (record it again)" % path)
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data[:len(MAGIC)]):
            raise RecordingError("the recording %s is cut short before its header; record the run again" % path)
        raise RecordingError("%s is not a Loopscope recording (it does not start with %r); give the file "
                             "that \"record\" wrote" % (path, MAGIC.decode().strip()))
    frames, cut_short = _frames(path, data)
    if not frames:
        raise RecordingError("the recording %s is cut short before its header; record the run again" % path)
    header = frames[0]
    if header.get("kind") != "header":
        raise RecordingError("the recording %s has no header; it was not written by Loopscope" % path)
    if header.get("format") not in _READABLE_FORMATS:
        raise RecordingError("the recording %s has format %r; this Loopscope reads format %d (record it again with "
                             "this version)" % (path, header.get("format"), FORMAT_VERSION))
    recording = Recording(path, header)
    recording.cut_short = cut_short
    for number, frame in enumerate(frames[1:], 2):
        kind = frame.get("kind")
        try:
            if kind == "chunk":
                recording.names.extend(str(name) for name in frame.get("names", ()))
                for body in frame.get("loops", ()):
                    index = int(body["loop"])
                    tape = recording.loops.get(index)
                    if tape is None:
                        tape = recording.loops[index] = LoopTape(index)
                    tape.absorb(body)
            elif kind == "end":
                recording.end = frame
            else:
                raise ValueError("unknown kind %r" % (kind,))
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise RecordingError("the recording %s is damaged: frame %d does not hold what Loopscope wrote (%s); "
                                 "record the run again" % (path, number, error))
    return recording


def _frames(path, data):
    """The decoded frames, and why the file stops early (None if it does not)."""
    frames, offset = [], len(MAGIC)
    while offset < len(data):
        if offset + _LENGTH.size > len(data):
            return frames, "the last frame's length is cut off at byte %d" % offset
        (length,) = _LENGTH.unpack_from(data, offset)
        if length > MAX_FRAME_BYTES:
            raise RecordingError("the recording %s is damaged at byte %d (a frame of %d bytes); record the run again"
                                 % (path, offset, length))
        start = offset + _LENGTH.size
        if start + length > len(data):
            return frames, "the last frame is cut off at byte %d of %d" % (len(data), start + length)
        try:
            frame = json.loads(zlib.decompress(data[start:start + length]).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, ValueError):
            raise RecordingError("the recording %s is damaged: frame %d (at byte %d) fails its checksum or does not "
                                 "decode, so it was changed after Loopscope wrote it; record the run again"
                                 % (path, len(frames) + 1, offset))
        if not isinstance(frame, dict):
            raise RecordingError("the recording %s is damaged: frame %d is not what Loopscope writes" % (path, len(frames) + 1))
        frames.append(frame)
        offset = start + length
    return frames, None
