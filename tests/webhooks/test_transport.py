"""What a hostile receiver can make a delivery worker do: not download a body (the status line decides)."""

from __future__ import annotations

import socket
import threading

from django.test import SimpleTestCase, override_settings

from webhooks import transport

CHUNK = b"x" * 65536
OFFERED = 1024 * len(CHUNK)  # 64 MiB, announced and sent for as long as the client reads


class HugeBodyServer:
    """Answers 200 with a 64 MiB body, counting the bytes the client took before it hung up."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sent = 0
        self.done = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def serve(self) -> None:
        conn, _addr = self.sock.accept()
        conn.settimeout(30)
        try:
            conn.recv(65536)
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {OFFERED}\r\n\r\n".encode())
            while self.sent < OFFERED:
                conn.sendall(CHUNK)
                self.sent += len(CHUNK)
        except OSError:
            pass  # the client closed the connection: what the test wants
        finally:
            conn.close()
            self.sock.close()
            self.done.set()


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=True)
class HostileReceiverTests(SimpleTestCase):
    def test_a_receiver_answering_with_a_huge_body_is_not_downloaded(self) -> None:
        server = HugeBodyServer()
        outcome = transport.post(server.url, b"{}", {"content-type": "application/json"})
        self.assertTrue(server.done.wait(30))
        self.assertTrue(outcome.ok)
        self.assertEqual(outcome.response_code, 200)
        # What the kernel's socket buffers took before the close, not the 64 MiB offered.
        self.assertLess(server.sent, OFFERED // 4)
