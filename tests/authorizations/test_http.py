"""The one HTTP wrapper: which connection failures are tried once more (refused before sending, closed without an
answer, any for an idempotent or replay-safe request) and which are not (a timeout, a cut-off answer, a reset
non-idempotent request)."""

from __future__ import annotations

import re
import socket

import pytest

from amazon import http


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_is_tried_twice_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = http._session.request

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(http._session, "request", counting)
    with pytest.raises(http.TransportError):
        http.request("POST", f"http://127.0.0.1:{_closed_port()}/auth/o2/token", data={"a": "b"}, timeout=2)
    assert len(calls) == 2


def test_a_refused_connection_that_comes_back_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    attempts = []

    def flaky(*args: object, **kwargs: object) -> object:
        attempts.append(1)
        if len(attempts) == 1:
            raise requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
        response = requests.Response()
        response.status_code = 200
        return response

    monkeypatch.setattr(http._session, "request", flaky)
    assert http.request("POST", "http://127.0.0.1:1/x", timeout=2).status_code == 200
    assert len(attempts) == 2


@pytest.mark.parametrize(
    ("method", "timeout"),
    [("POST", "ReadTimeout"), ("GET", "ReadTimeout"), ("GET", "ConnectTimeout")],
)
def test_a_timeout_is_not_tried_again_whatever_the_method(
    monkeypatch: pytest.MonkeyPatch, method: str, timeout: str
) -> None:
    import requests

    attempts = []

    def slow(*args: object, **kwargs: object) -> object:
        attempts.append(1)
        raise getattr(requests.exceptions, timeout)("timed out")

    monkeypatch.setattr(http._session, "request", slow)
    with pytest.raises(http.TransportError) as failed:
        http.request(method, "http://127.0.0.1:1/x", timeout=2, replay_safe=True)
    assert failed.value.timeout
    assert len(attempts) == 1


RESET = b"<reset>"


def _server(answers: list[bytes]) -> tuple[int, list[int]]:
    """A loopback HTTP server that reads one request per connection and sends the next canned answer (b"" closes
    the connection without a byte of answer, as a server timing out a kept-alive connection does; RESET aborts it
    with an RST, as the kernel does when a request reaches a connection the server already closed)."""
    import struct
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    connections: list[int] = []

    def serve() -> None:
        for answer in answers:
            conn, _ = listener.accept()
            connections.append(1)
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                while length and len(body) < int(length.group(1)):
                    body += conn.recv(65536)
                if answer == RESET:
                    # SO_LINGER on with a zero timeout: close() sends an RST instead of a FIN.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif answer:
                    conn.sendall(answer)
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1]), connections


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def test_a_connection_closed_without_a_byte_of_answer_is_tried_once_more() -> None:
    port, connections = _server([b"", OK])
    r = http.request("POST", f"http://127.0.0.1:{port}/auth/o2/token", data={"a": "b"}, timeout=5)
    assert r.status_code == 200
    assert len(connections) == 2


def test_an_answer_cut_off_midway_is_not_tried_again() -> None:
    port, connections = _server([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\npartial", OK])
    with pytest.raises(http.TransportError):
        r = http.request("POST", f"http://127.0.0.1:{port}/auth/o2/token", data={"a": "b"}, timeout=5)
        r.content  # noqa: B018 - reading the body is where the cut shows
    assert len(connections) == 1


def test_a_get_whose_connection_broke_is_tried_once_more_a_post_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests

    attempts: list[str] = []

    def broken(method: str, *args: object, **kwargs: object) -> object:
        attempts.append(method)
        raise requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))

    monkeypatch.setattr(http._session, "request", broken)
    with pytest.raises(http.TransportError):
        http.request("GET", "http://127.0.0.1:1/sellers", timeout=2)
    assert attempts == ["GET", "GET"]
    attempts.clear()
    with pytest.raises(http.TransportError):
        http.request("POST", "http://127.0.0.1:1/auth/o2/token", timeout=2)
    assert attempts == ["POST"]


TOKEN = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 76\r\nConnection: close\r\n\r\n"
    b'{"access_token":"Atza|fresh","refresh_token":"Atzr|grant","expires_in":3600}'
)


def test_a_code_exchange_whose_connection_was_reset_is_tried_once_more_and_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from amazon import lwa

    assert len(TOKEN.split(b"\r\n\r\n", 1)[1]) == 76
    port, connections = _server([RESET, TOKEN])
    with caplog.at_level("INFO", logger="amazon.http"):
        token = lwa.exchange_code(
            f"http://127.0.0.1:{port}/auth/o2/token", lwa.Client("id", "secret"), "code", "https://portal/cb"
        )
    assert token.access_token == "Atza|fresh"
    assert len(connections) == 2
    assert "ConnectionResetError" in caplog.text


def test_a_reset_token_request_is_tried_only_once_more_and_the_reason_names_the_reset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from amazon import lwa

    port, connections = _server([RESET, RESET, TOKEN])
    with caplog.at_level("WARNING", logger="amazon.http"), pytest.raises(lwa.LwaError) as failed:
        lwa.refresh(f"http://127.0.0.1:{port}/auth/o2/token", lwa.Client("id", "secret"), "Atzr|grant")
    assert failed.value.kind == "network"
    assert len(connections) == 2
    assert "failed: ConnectionError (ConnectionResetError)" in caplog.text


def test_a_post_that_is_not_replay_safe_is_not_sent_again_after_a_reset() -> None:
    port, connections = _server([RESET, OK])
    with pytest.raises(http.TransportError):
        http.request("POST", f"http://127.0.0.1:{port}/applications/2023-11-30/clientSecret", timeout=5)
    assert len(connections) == 1
