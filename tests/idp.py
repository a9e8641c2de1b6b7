"""A fake identity provider for tests: real RSA/EC keys, a JWKS served over HTTP on
loopback (or written to a file), and ID tokens signed like Google's or Apple's."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"]
GOOGLE_AUDIENCE = ["web-client-id.apps.example", "ios-client-id.apps.example"]


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid: str, alg: str) -> dict:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


class IdentityProvider:
    def __init__(self, issuers=None, audience=None):
        self.issuers = issuers or GOOGLE_ISSUERS
        self.audience = audience or GOOGLE_AUDIENCE
        self.keys = {"key-1": (new_rsa_key(), "RS256")}
        self.requests = 0
        self.down = False
        self._server = None

    # Keys.
    def jwks(self) -> dict:
        return {"keys": [public_jwk(k, kid, alg) for kid, (k, alg) in self.keys.items()]}

    def add_key(self, kid: str, private_key=None, alg: str = "RS256"):
        self.keys[kid] = (private_key or new_rsa_key(), alg)

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
    def start(self) -> str:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests += 1
                if provider.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return f"http://127.0.0.1:{self._server.server_port}/jwks"

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def settings_entry(self, jwks_uri: str) -> dict:
        return {"issuer": list(self.issuers), "audience": list(self.audience), "jwks_uri": jwks_uri}
