"""Entry point: python -m loopscope [--connect HOST:PORT] (PROGRAM | -m MODULE) [ARGS...]

Also runnable by path (python .../loopscope/__main__.py), which is how the adapter starts it, so
that nothing has to be put on the user's PYTHONPATH. Parseable by old Pythons on purpose.
"""

import os
import sys

# Before Loopscope imports anything: what a plain run of the program starts with (see imports.py).
# `python -m loopscope` comes through runpy, which a plain run of a script has not imported (the
# program may have its own runpy.py); what runpy imported, a plain `python -m` start has too.
_MODULES_BEFORE_LOOPSCOPE = [name for name in sys.modules if not (__package__ and name == "runpy")]

if not __package__:
    # Started by path: make the package importable; launcher puts the program's own sys.path[0] back.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from loopscope.vocabulary import OLDEST_PYTHON
else:
    from .vocabulary import OLDEST_PYTHON

if sys.version_info < OLDEST_PYTHON:
    sys.stderr.write("loopscope: Python %d.%d (%s) is too old; Loopscope needs Python %d.%d or newer. "
                     "Set \"python\" in launch.json to a newer interpreter.\n"
                     % (sys.version_info[0], sys.version_info[1], sys.executable, OLDEST_PYTHON[0], OLDEST_PYTHON[1]))
    sys.exit(3)

if not __package__:
    from loopscope import imports
    imports.start_recording(_MODULES_BEFORE_LOOPSCOPE)
    from loopscope.launcher import main
else:
    from . import imports
    imports.start_recording(_MODULES_BEFORE_LOOPSCOPE)
    from .launcher import main

main()
