"""Loopscope's runtime: runs a Python program with every asyncio event loop instrumented so that a
debugger can hold it between iterations or before any handle. Standard library only.

Kept parseable by old Pythons so that `python -m loopscope` can say clearly that they are too old.
"""

__version__ = "0.1.0"


def listen(address=("127.0.0.1", 0), wait_for_client=False):
    """Let Loopscope connect to this running program: an attach configuration with
    "connect": {"port": PORT} (docs/security.md says where the token goes). address is (host, port)
    or a port; loopback unless a host says otherwise. Returns the (host, port) it listens on.
    wait_for_client: return only once a debugger has connected and started its session."""
    from .listening import listen as listen_here
    return listen_here(address, wait_for_client)
