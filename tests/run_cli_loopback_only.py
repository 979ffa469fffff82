"""Run the outage-signals CLI in a subprocess that can reach 127.0.0.1 only (as in-process tests
can, through the fixture in conftest.py). Usage: python tests/run_cli_loopback_only.py ARGS..."""

import socket
import sys


def _guard(connect):
    def guarded(sock, address, *args):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            raise OSError(f"this test process may not reach {address[0]}")
        return connect(sock, address, *args)
    return guarded


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)

from outage_signals.cli import main  # noqa: E402

sys.exit(main())
