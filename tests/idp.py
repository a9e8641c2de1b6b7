"""A fake identity provider for tests: real RSA/EC keys, a JWKS served over HTTP or HTTPS
on loopback (or written to a file), ID tokens signed like Google's or Apple's, and the bad
answers a real endpoint sometimes gives instead of its key set."""

import datetime
import ipaddress
import json
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"]
GOOGLE_AUDIENCE = ["web-client-id.apps.example", "ios-client-id.apps.example"]

# What an endpoint (or a key file) may hold instead of a usable key set.
BAD_BODIES = {
    "empty-set": lambda good: {"keys": []},
    "json-list": lambda good: [],
    "not-json": lambda good: "<html><body>Temporarily moved</body></html>",
    "no-usable-key": lambda good: {"keys": [{"kty": "bogus"}]},
    "alg-not-a-string": lambda good: {"keys": [{"kty": "RSA", "alg": ["RS256"]}]},
    "only-encryption-keys": lambda good: {"keys": [{**k, "use": "enc"} for k in good["keys"]]},
}
# Cut after half of the body: a file half written; over HTTP the connection is closed with
# the Content-Length promising more.
CUT_MID_BODY = "cut-mid-body"
# HTTP only: the connection reset (TCP RST) after half of the body, and a 5xx.
RESET_MID_BODY = "reset-mid-body"
SERVER_ERROR = "server-error"
# file:// only: the file is gone.
MISSING_FILE = "missing-file"
HTTP_BAD_ANSWERS = [*BAD_BODIES, CUT_MID_BODY, RESET_MID_BODY, SERVER_ERROR]
FILE_BAD_ANSWERS = [*BAD_BODIES, CUT_MID_BODY, MISSING_FILE]


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid: str, alg: str) -> dict:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def write_tls_files(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it, as PEM files in
    ``directory``: (the CA, for clients to trust; the server's certificate and key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = new_ec_key(), new_ec_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test IdP CA")])

    def certificate(subject, key, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca = certificate(
        ca_name,
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (CA_KEY_USAGE, True),
        ],
    )
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        server_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    server_pem = server + server_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (directory / "ca.pem").write_bytes(ca)
    (directory / "server.pem").write_bytes(server_pem)
    return directory / "ca.pem", directory / "server.pem"


class IdentityProvider:
    def __init__(self, issuers=None, audience=None) -> None:
        self.issuers = issuers or GOOGLE_ISSUERS
        self.audience = audience or GOOGLE_AUDIENCE
        self.keys = {"key-1": (new_rsa_key(), "RS256")}
        self.requests = 0
        self.down = False
        # None: the key set; else one of HTTP_BAD_ANSWERS / FILE_BAD_ANSWERS.
        self.answer: str | None = None
        self.key_file: Path | None = None
        # Trusted by clients that set SSL_CERT_FILE to it, once start(tls=True) ran.
        self.ca_file: Path | None = None
        self._servers: list[ThreadingHTTPServer] = []
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._server_pem: Path | None = None

    # Keys.
    def jwks(self) -> dict:
        return {"keys": [public_jwk(k, kid, alg) for kid, (k, alg) in self.keys.items()]}

    def add_key(self, kid: str, private_key=None, alg: str = "RS256"):
        self.keys[kid] = (private_key or new_rsa_key(), alg)

    def body(self) -> bytes:
        """What the endpoint serves (the whole of it, before any cut)."""
        jwks = self.jwks()
        make_bad = BAD_BODIES.get(self.answer) if self.answer is not None else None
        content = make_bad(jwks) if make_bad else jwks
        return (content if isinstance(content, str) else json.dumps(content)).encode()

    def serve(self, answer: str | None) -> None:
        """Answer ``answer`` from now on (None: the key set), in the key file too."""
        self.answer = answer
        self.write_key_file()

    def write_key_file(self) -> None:
        if self.key_file is None:  # served over http only
            return
        if self.answer == MISSING_FILE:
            self.key_file.unlink(missing_ok=True)
            return
        body = self.body()
        self.key_file.write_bytes(body[: len(body) // 2] if self.answer == CUT_MID_BODY else body)

    def start_file(self, path: Path) -> str:
        """Serve the key set from a file at ``path``; returns its file:// URI."""
        self.key_file = path
        self.write_key_file()
        return path.as_uri()

    # Tokens.
    def claims(self, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuers[0],
            "aud": self.audience[0],
            "sub": "subject-" + uuid.uuid4().hex[:8],
            "email": "someone@example.com",
            "name": "Some One",
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(self, kid: str = "key-1", key=None, alg: str | None = None, **overrides) -> str:
        private_key, key_alg = self.keys.get(kid, (None, "RS256"))
        return jwt.encode(
            self.claims(**overrides),
            key if key is not None else private_key,
            algorithm=alg or key_alg,
            headers={"kid": kid},
        )

    # The JWKS endpoint.
    def start(self, tls: bool = False) -> str:
        """Serve the key set over http (or https) on loopback; returns its URI. Every
        request is counted in ``requests``."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests += 1
                answer = SERVER_ERROR if provider.down else provider.answer
                if answer == SERVER_ERROR:
                    self.send_response(503 if provider.down else 500)
                    self.end_headers()
                    return
                body = provider.body()
                cut = answer in (CUT_MID_BODY, RESET_MID_BODY)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # HTTP/1.0: the connection is closed (FIN) once this returns.
                self.wfile.write(body[: len(body) // 2] if cut else body)
                if answer == RESET_MID_BODY:
                    time.sleep(0.05)  # the client has read the headers: reset in the body
                    # Linger 0: close() sends RST instead of FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            if self._tls_dir is None or self._server_pem is None:
                self._tls_dir = tempfile.TemporaryDirectory(prefix="idp-tls-")
                self.ca_file, self._server_pem = write_tls_files(Path(self._tls_dir.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._server_pem)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._servers.append(server)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_port}/jwks"

    def stop(self):
        while self._servers:
            server = self._servers.pop()
            server.shutdown()
            server.server_close()
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None

    def settings_entry(self, jwks_uri: str) -> dict:
        return {"issuer": list(self.issuers), "audience": list(self.audience), "jwks_uri": jwks_uri}
