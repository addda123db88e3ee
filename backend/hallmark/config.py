"""Settings from environment variables, with defaults for the embedded set-up (`make run`)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_PACKED_BATCH = 1200  # HallmarkCollection.MAX_PACKED_BATCH: most recipients of one airdrop transaction


def data_dir() -> Path:
    return Path(os.environ.get("HALLMARK_DATA_DIR", ROOT / "data"))


class Config:
    """Read once at app creation; every value can be overridden by an environment variable."""

    def __init__(self, **overrides):
        env = os.environ.get
        data = data_dir()
        self.DATA_DIR = data
        self.RPC_URL = env("HALLMARK_RPC_URL", "http://127.0.0.1:8545")
        # the JSON-RPC endpoint visitors' browsers read the chain from (the verify page's own check); None: RPC_URL
        self.PUBLIC_RPC_URL = env("HALLMARK_PUBLIC_RPC_URL")
        self.NETWORK = env("HALLMARK_NETWORK", "hallmark-local")
        self.DEPLOYMENT_FILE = Path(env("HALLMARK_DEPLOYMENT_FILE", data / "deployments" / f"{self.NETWORK}.json"))
        self.DATABASE_URL = env("HALLMARK_DATABASE_URL", f"sqlite:///{data / 'hallmark.db'}")
        self.PUBLIC_BASE_URL = env("HALLMARK_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.CONFIRMATIONS = int(env("HALLMARK_CONFIRMATIONS", "0"))
        # recipients per airdrop transaction: one packed batch, whose data contract holds at most
        # HallmarkCollection.MAX_PACKED_BATCH (1,200) addresses under EIP-170's 24 KB code cap
        # the largest packed airdrop by default: fewest transactions, least gas a token, and Ganache's best rate
        # (bench: 500 -> 1,190 tokens/s, 1,000 -> 1,411, 1,200 -> 1,467 sent straight to the node)
        self.MINT_BATCH_SIZE = int(env("HALLMARK_MINT_BATCH_SIZE", str(MAX_PACKED_BATCH)))
        if not 1 <= self.MINT_BATCH_SIZE <= MAX_PACKED_BATCH:
            raise ValueError(f"HALLMARK_MINT_BATCH_SIZE must be 1..{MAX_PACKED_BATCH} (one packed airdrop)")
        # processes that render a drop's cards (hallmark.art.batch); 0: one a core
        self.RENDER_PROCESSES = int(env("HALLMARK_RENDER_PROCESSES", "0"))
        self.CLAIM_WINDOW_SECONDS = float(env("HALLMARK_CLAIM_WINDOW_SECONDS", "1.0"))
        self.INDEX_CONFIRMATIONS = int(env("HALLMARK_INDEX_CONFIRMATIONS", "0"))
        self.INDEX_PAGE_SIZE = int(env("HALLMARK_INDEX_PAGE_SIZE", "2000"))
        self.INDEX_POLL_SECONDS = float(env("HALLMARK_INDEX_POLL_SECONDS", "0.5"))
        # while the issuer key has transactions in flight, the indexer catches up at most this often (0: at once)
        self.INDEX_YIELD_SECONDS = float(env("HALLMARK_INDEX_YIELD_SECONDS", "10"))
        self.START_WORKERS = env("HALLMARK_START_WORKERS", "1") == "1"
        self.MAX_CONTENT_LENGTH = int(env("HALLMARK_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
        # the sender: replace a transaction unmined after this long at a fee this much higher, up to the cap
        self.FEE_BUMP_SECONDS = float(env("HALLMARK_FEE_BUMP_SECONDS", "30"))
        self.FEE_BUMP_PERCENT = int(env("HALLMARK_FEE_BUMP_PERCENT", "20"))
        self.MAX_FEE_WEI = int(env("HALLMARK_MAX_FEE_WEI", str(500 * 10**9)))
        # a standby worker or indexer takes over this long after the active one stops renewing its lease
        self.LEASE_SECONDS = float(env("HALLMARK_LEASE_SECONDS", "6"))
        # a request that crashed holds its Idempotency-Key this long before a retry may run it again
        self.IDEMPOTENCY_LEASE_SECONDS = float(env("HALLMARK_IDEMPOTENCY_LEASE_SECONDS", "30"))
        # /api/health: a background process is dead without a heartbeat, stalled without progress, this long
        self.HEALTH_DEAD_SECONDS = float(env("HALLMARK_HEALTH_DEAD_SECONDS", "15"))
        self.HEALTH_STALLED_SECONDS = float(env("HALLMARK_HEALTH_STALLED_SECONDS", "120"))
        # secrets kept outside the database (hallmark.security): None = the data folder's keys/*.key, made once
        self.RESPONSE_KEY = env("HALLMARK_RESPONSE_KEY")  # seals stored Idempotency-Key responses
        self.CUSTOMER_ASSERTION_KEY = env("HALLMARK_CUSTOMER_ASSERTION_KEY")  # the bank signs customer assertions
        # a code-generation response (the codes themselves) can be replayed this long, then never again
        self.CODES_REPLAY_SECONDS = float(env("HALLMARK_CODES_REPLAY_SECONDS", str(24 * 3600)))
        # per client address on the public endpoints (Flask-Limiter's notation); shared by every web process
        # through HALLMARK_RATELIMIT_STORAGE_URI (redis://host:6379), else counted in each process's memory
        self.RATELIMIT_ENABLED = env("HALLMARK_RATELIMIT_ENABLED", "1") == "1"
        self.RATELIMIT_STORAGE_URI = env("HALLMARK_RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_CLAIMS = env("HALLMARK_RATELIMIT_CLAIMS", "10 per minute")
        self.RATELIMIT_OWNERSHIP = env("HALLMARK_RATELIMIT_OWNERSHIP", "30 per minute")
        self.RATELIMIT_IMAGE = env("HALLMARK_RATELIMIT_IMAGE", "10 per minute")
        self.RATELIMIT_VERIFY = env("HALLMARK_RATELIMIT_VERIFY", "120 per minute")
        # how many reverse proxies in front append to X-Forwarded-For (0: the header is ignored, the peer counts)
        self.TRUSTED_PROXIES = int(env("HALLMARK_TRUSTED_PROXIES", "0"))
        # staff sign-in: sessions end after this long idle or at the latest after SESSION_MAX_SECONDS; an account
        # is locked for LOGIN_LOCK_SECONDS after LOGIN_MAX_FAILURES wrong passwords or codes in a row
        self.SESSION_IDLE_SECONDS = float(env("HALLMARK_SESSION_IDLE_SECONDS", str(30 * 60)))
        self.SESSION_MAX_SECONDS = float(env("HALLMARK_SESSION_MAX_SECONDS", str(12 * 3600)))
        self.LOGIN_MAX_FAILURES = int(env("HALLMARK_LOGIN_MAX_FAILURES", "5"))
        self.LOGIN_LOCK_SECONDS = float(env("HALLMARK_LOGIN_LOCK_SECONDS", str(15 * 60)))
        # maker-checker: which requests wait for a second person (drop, airdrop, mint, pause), and airdrops with
        # fewer recipients than APPROVAL_AIRDROP_MIN go without one; strict by default: all four, every airdrop
        self.APPROVALS = tuple(a for a in env("HALLMARK_APPROVALS", "drop,airdrop,mint,pause").split(",") if a)
        self.APPROVAL_AIRDROP_MIN = int(env("HALLMARK_APPROVAL_AIRDROP_MIN", "0"))
        # webhooks: a delivery is retried with backoff (doubling from WEBHOOK_RETRY_SECONDS) up to this many times
        self.WEBHOOK_MAX_ATTEMPTS = int(env("HALLMARK_WEBHOOK_MAX_ATTEMPTS", "12"))
        self.WEBHOOK_RETRY_SECONDS = float(env("HALLMARK_WEBHOOK_RETRY_SECONDS", "5"))
        self.WEBHOOK_TIMEOUT_SECONDS = float(env("HALLMARK_WEBHOOK_TIMEOUT_SECONDS", "5"))
        # endpoints on private, loopback or link-local addresses are refused unless this is 1 (a local demo, tests)
        self.WEBHOOK_ALLOW_PRIVATE = env("HALLMARK_WEBHOOK_ALLOW_PRIVATE", "0") == "1"
        for key, value in overrides.items():
            setattr(self, key, value)
        self.PUBLIC_RPC_URL = self.PUBLIC_RPC_URL or self.RPC_URL

    def as_flask(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
