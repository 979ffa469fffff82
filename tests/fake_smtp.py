"""An SMTP sink on 127.0.0.1: accepts every message (no TLS, no auth) and keeps it, parsed,
for the test to read. Enough of RFC 5321 for smtplib (EHLO, MAIL, RCPT, DATA with
dot-unstuffing, RSET, NOOP, QUIT); ``fail_next`` answers the next DATA with a 451 so a
delivery can be made to fail once."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: SMTPSink = self.server  # type: ignore[assignment]
        self.reply("220 sink.test ESMTP")
        in_data, lines = False, []
        while raw := self.rfile.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    if server.fail_next:
                        server.fail_next -= 1
                        self.reply("451 4.3.0 try again later")
                    else:
                        server.accept("\r\n".join(lines))
                        self.reply("250 2.0.0 queued")
                    lines = []
                else:
                    lines.append(line[1:] if line.startswith(".") else line)
                continue
            verb = line[:4].upper()
            if verb == "EHLO":
                self.reply("250-sink.test", "250 8BITMIME")
            elif verb == "DATA":
                in_data = True
                self.reply("354 end with <CRLF>.<CRLF>")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")

    def reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


class SMTPSink(socketserver.ThreadingTCPServer):
    """``with SMTPSink() as sink``: ``sink.port``, ``sink.messages`` (parsed, in order)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.messages: list[EmailMessage] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def accept(self, text: str) -> None:
        message = email.message_from_string(text, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]

    def __enter__(self) -> SMTPSink:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
