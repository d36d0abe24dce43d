"""The real stand-in platform process, and connectors of the test database pointing at it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from platforms import services as platform_services
from tests.support.workers import end_process

ROOT = Path(__file__).resolve().parents[2]
COMPANY_USCC = "91430300MA4L0XXQ1U"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def platform_config(code, *, mode="sync", failure_rate=0.0, holdings=(), hang_s=2, latency_ms=0):
    return {
        "name": code,
        "key_id": f"k-{code}",
        "secret": f"secret-of-{code}-0123456789",
        "latency_ms": latency_ms,
        "failure_rate": failure_rate,
        "hang_s": hang_s,
        "mode": mode,
        "holdings": list(holdings),
    }


def holding(account, balance, holder=COMPANY_USCC, kind="platform_balance"):
    return {
        "holder_id": holder,
        "holder_name": "湘潭鲜享家网络科技有限公司",
        "account": account,
        "asset_kind": kind,
        "balance": balance,
    }


class MockPlatforms:
    """A running ``run_mock_platforms`` process."""

    def __init__(self, config: dict, tmp: Path, seed: int = 7):
        self.config = config
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data = tmp / f"platforms-{self.port}.json"
        data.write_text(json.dumps({"platforms": config}, ensure_ascii=False))
        self.log = open(tmp / f"mock-{self.port}.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_mock_platforms",
                "--port",
                str(self.port),
                "--data",
                str(data),
                "--seed",
                str(seed),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/_health", timeout=0.5).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("mock platforms did not start")

    def ledger(self, code: str) -> dict:
        return requests.get(f"{self.base}/{code}/_ledger", timeout=5).json()

    def connect(self, admin, platform, **extra):
        cfg = self.config[platform.code]
        return platform_services.save_connector(
            admin,
            platform,
            base_url=f"{self.base}/{platform.code}",
            key_id=cfg["key_id"],
            secret=cfg["secret"],
            capabilities=["query", "freeze", "unfreeze", "renew", "deduct"],
            timeout_s=extra.pop("timeout_s", 2),
            **extra,
        )

    def stop(self):
        end_process(self.proc)
        self.log.close()
