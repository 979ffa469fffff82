"""The loopback-only guard for tests: a wrapper for ``socket.connect`` that refuses any address
but 127.0.0.1 / ::1. Used by the autouse fixture in conftest.py and by the CLI subprocess runner."""

import socket

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def loopback_only(connect):
    def guarded(sock, address, *args):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise OSError(f"tests may not reach {address[0]}: only 127.0.0.1 is allowed")
        return connect(sock, address, *args)
    return guarded
