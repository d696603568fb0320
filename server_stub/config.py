"""Settings for one server instance, fixed at start."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    """Everything `create_app` needs; the defaults serve the repository with a db under var/."""

    db_path: Path = REPO_ROOT / "var" / "auth.db"
    # A postgresql:// URL: the store is that database, shared by every node, and db_path
    # holds no data (server_stub/store.py). None: the SQLite file at db_path.
    db_url: str | None = None
    # The signing keys file every node shares (server_stub/secret.py). None: AUTH_SECRET,
    # else the keys beside the SQLite file.
    keys_path: Path | None = None
    web_root: Path = REPO_ROOT
    access_ttl: int = 300
    refresh_ttl: int = 7 * 24 * 3600
    # A spent refresh token presented again within this many seconds gets the same
    # successor again, while that is unused (a lost answer, or tabs racing one refresh, is
    # not an attack), and is refused without revoking its session once it is used. Later
    # presentations are treated as theft and revoke the whole family (RFC 9700 §4.14.2).
    reuse_grace: float = 5.0
    # Seconds /api/resources waits before answering: latency for the demo and the tests
    # that show parallel requests overlapping on the wire.
    api_delay: float = 0.0
    # Failed logins allowed per user name and per client address within login_window
    # seconds; more get 429 until the oldest failure leaves the window (server_stub/limits.py).
    login_attempts: int = 10
    login_window: float = 60.0
    # Seconds between passes that delete expired rows (server_stub/pruning.py); 0: none.
    prune_every: float = 10.0
    # `make bench` only: serve bench/contestants/ under /bench/ and bench/vendor/ (its
    # copied npm libraries) under /bench/vendor/. None, the default, serves neither.
    bench_root: Path | None = None
    # The origin of a page elsewhere that may call /oauth/token (CORS, server_stub/cors.py),
    # as server_stub/origins.py's parse_origin writes it. None: only pages of this origin.
    cors_origin: str | None = None
    # An OpenID Connect provider whose RFC 9068 access tokens for `trusted_audience` the API
    # accepts beside its own (server_stub/issuer_tokens.py). None: only its own.
    trusted_issuer: str | None = None
    trusted_audience: str | None = None
    # DPoP (RFC 9449, server_stub/dpop.py): proofs are checked whenever a client sends one;
    # require_dpop refuses clients that send none (Bearer tokens). dpop_nonce asks every
    # proof for the server's nonce, which changes every dpop_nonce_every seconds.
    require_dpop: bool = False
    dpop_nonce: bool = False
    dpop_nonce_every: float = 300.0
    issuer: str = "pyscript-refresh-gate"
    audience: str = "pyscript-refresh-gate-api"
    seed_user: str = "andreyka26_"
    seed_password: str = field(default="Mypass1*", repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Reject lifetimes that would make every token dead on arrival."""
        if self.access_ttl <= 0 or self.refresh_ttl <= 0:
            raise ValueError("access_ttl and refresh_ttl must be positive")
        if self.reuse_grace < 0 or self.api_delay < 0:
            raise ValueError("reuse_grace and api_delay must not be negative")
        if self.login_attempts <= 0 or self.login_window <= 0:
            raise ValueError("login_attempts and login_window must be positive")
        if self.prune_every < 0:
            raise ValueError("prune_every must not be negative")
        if self.dpop_nonce_every <= 0:
            raise ValueError("dpop_nonce_every must be positive")
