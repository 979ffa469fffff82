"""Run the outage-signals CLI in a subprocess that can reach 127.0.0.1 only (as in-process tests
can, through the fixture in conftest.py). Usage: python tests/run_cli_loopback_only.py ARGS..."""

import socket
import sys

from netguard import loopback_only  # this script's directory (tests/) is first on sys.path

socket.socket.connect = loopback_only(socket.socket.connect)
socket.socket.connect_ex = loopback_only(socket.socket.connect_ex)

from outage_signals.cli import main  # noqa: E402

sys.exit(main())
