"""The conftest guard: tests can reach loopback servers and nothing else."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkRefused
from tests.fakes.http_server import ScriptedHttpServer


@pytest.mark.parametrize(
    "address", [("93.184.216.34", 80), ("2606:2800:220:1::1", 443, 0, 0), ("10.0.0.1", 25)]
)
def test_a_connection_off_this_machine_is_refused(address: tuple) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(NetworkRefused):
        sock.connect(address)
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(NetworkRefused):
        sock.connect_ex(address)


def test_loopback_still_works() -> None:
    with ScriptedHttpServer() as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=2) as sock:
            assert sock.getpeername()[0] == "127.0.0.1"
