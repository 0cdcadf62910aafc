"""A hand-written SMTP server on 127.0.0.1 that misbehaves on purpose (aiosmtpd is too polite):

- ``trickle_banner``: sends its greeting one byte every `pause` seconds, forever;
- ``auth_echo``: answers AUTH PLAIN / LOGIN with a 535 that echoes what the client sent
  (the base64 of the credentials);
- ``store_then_drop``: stores the message at the final "." and closes the connection before
  it replies.

    with HostileSmtp("store_then_drop") as server:
        ... server.port ... server.messages (raw bytes of stored messages) ...
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Literal, Self

Mode = Literal["trickle_banner", "auth_echo", "store_then_drop"]


class HostileSmtp:
    def __init__(self, mode: Mode, *, pause: float = 0.2) -> None:
        self.mode = mode
        self.pause = pause
        self.messages: list[bytes] = []
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rb") as reader:
                if self.mode == "trickle_banner":
                    while not self._stop.is_set():
                        for byte in b"220-welcome, slowly\r\n":
                            conn.sendall(bytes([byte]))
                            time.sleep(self.pause)
                    return
                self._dialog(conn, reader)
        except OSError:
            return

    def _dialog(self, conn: socket.socket, reader: object) -> None:
        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("220 hostile.test ESMTP")
        while not self._stop.is_set():
            raw = reader.readline()  # type: ignore[attr-defined]
            if not raw:
                return
            line = raw.decode("utf-8", "replace").strip()
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                conn.sendall(b"250-hostile.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                parts = line.split()
                if len(parts) >= 2 and parts[1].upper() == "LOGIN":
                    say("334 UGFzc3dvcmQ6")  # "Password:"
                    secret = reader.readline().decode().strip()  # type: ignore[attr-defined]
                    say(f"535 5.7.8 rejected {parts[2] if len(parts) > 2 else ''} {secret}")
                else:
                    say(f"535 5.7.8 rejected credentials {' '.join(parts[2:])}")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                say("250 OK")
            elif verb == "DATA":
                say("354 go ahead")
                body = bytearray()
                while True:
                    chunk = reader.readline()  # type: ignore[attr-defined]
                    if not chunk or chunk == b".\r\n":
                        break
                    body += chunk
                self.messages.append(bytes(body))
                if self.mode == "store_then_drop":
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                say("250 stored")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not implemented")
