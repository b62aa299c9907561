"""Loopscope's runtime: runs a Python program with every asyncio event loop instrumented so that a
debugger can hold it between iterations or before any handle. Standard library only.

Kept parseable by old Pythons so that `python -m loopscope` can say clearly that they are too old.
"""

__version__ = "0.1.0"
