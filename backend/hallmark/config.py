"""Settings from environment variables, with defaults for the embedded set-up (`make run`)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    return Path(os.environ.get("HALLMARK_DATA_DIR", ROOT / "data"))


class Config:
    """Read once at app creation; every value can be overridden by an environment variable."""

    def __init__(self, **overrides):
        env = os.environ.get
        data = data_dir()
        self.DATA_DIR = data
        self.RPC_URL = env("HALLMARK_RPC_URL", "http://127.0.0.1:8545")
        self.NETWORK = env("HALLMARK_NETWORK", "hallmark-local")
        self.DEPLOYMENT_FILE = Path(env("HALLMARK_DEPLOYMENT_FILE", data / "deployments" / f"{self.NETWORK}.json"))
        self.DATABASE_URL = env("HALLMARK_DATABASE_URL", f"sqlite:///{data / 'hallmark.db'}")
        self.PUBLIC_BASE_URL = env("HALLMARK_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.CONFIRMATIONS = int(env("HALLMARK_CONFIRMATIONS", "0"))
        self.MINT_BATCH_SIZE = int(env("HALLMARK_MINT_BATCH_SIZE", "500"))
        self.CLAIM_WINDOW_SECONDS = float(env("HALLMARK_CLAIM_WINDOW_SECONDS", "1.0"))
        self.INDEX_CONFIRMATIONS = int(env("HALLMARK_INDEX_CONFIRMATIONS", "0"))
        self.INDEX_PAGE_SIZE = int(env("HALLMARK_INDEX_PAGE_SIZE", "2000"))
        self.INDEX_POLL_SECONDS = float(env("HALLMARK_INDEX_POLL_SECONDS", "0.5"))
        self.START_WORKERS = env("HALLMARK_START_WORKERS", "1") == "1"
        self.MAX_CONTENT_LENGTH = int(env("HALLMARK_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
        for key, value in overrides.items():
            setattr(self, key, value)

    def as_flask(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
