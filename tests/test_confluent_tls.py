"""The registry client's basic auth and TLS settings, against the real registry behind an HTTPS
front that asks for basic auth (Apicurio itself authenticates only through an OIDC server, which
nothing here runs: the front is the one stand-in, and it forwards every call to the registry)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ttxt_kafka.codec import Codec
from ttxt_kafka.confluent import (
    ConfluentFraming,
    SchemaRegistryClient,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
)
from ttxt_kafka.events import Trades
from ttxt_kafka.samples import all_samples

USER, PASSWORD = "ttxt-svc", "pa:ss w0rd"


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture()
def https_front(schema_registry_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """https://127.0.0.1:PORT/apis/ccompat/v7 -> the registry, for basic-auth callers only."""
    target = schema_registry_url.split("/apis/", 1)[0]
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Front(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            if self.headers.get("Authorization") != expected:
                body = json.dumps({"error_code": 401, "message": "Unauthorized"}).encode()
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else None
            request = urllib.request.Request(
                target + self.path, data=data, method=self.command,
                headers={k: v for k, v in self.headers.items()
                         if k in ("Content-Type", "Accept")})
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    status, body = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _forward

        def log_message(self, *args: object) -> None:
            pass

    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/apis/ccompat/v7", cert
    finally:
        server.shutdown()
        server.server_close()


def test_basic_auth_over_tls(https_front: tuple[str, Path]) -> None:
    url, ca = https_front
    client = SchemaRegistryClient(url, username=USER, password=PASSWORD, ca_file=str(ca))
    codec = Codec(confluent=ConfluentFraming(client))
    event = next(e for e in all_samples() if isinstance(e, Trades))
    framed = codec.encode_for(event, "ttls.binance.trades")
    assert codec.decode(framed) == event
    assert "ttls.binance.trades-value" in client.subjects()

    wrong = SchemaRegistryClient(url, username=USER, password="nope", ca_file=str(ca))
    with pytest.raises(SchemaRegistryError) as refused:
        wrong.subjects()
    assert refused.value.status == 401
    assert "nope" not in str(refused.value) and PASSWORD not in str(refused.value)

    untrusted = SchemaRegistryClient(url, username=USER, password=PASSWORD)
    with pytest.raises(SchemaRegistryUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.subjects()
