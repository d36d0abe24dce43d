"""Demo connectors: every demo platform points at the stand-in platform service of `make run`.

The secrets are the demo file's (platforms/mock/demo_platforms.json); MOCK_PLATFORMS_URL says
where the service listens (default http://127.0.0.1:9100).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.db import transaction

from enforcement.models import User

from . import services
from .models import Connector, Platform

DEMO_FILE = Path(__file__).resolve().parent / "mock" / "demo_platforms.json"


@transaction.atomic
def load() -> int:
    admin = User.objects.get(username="admin")
    base = os.environ.get("MOCK_PLATFORMS_URL", "http://127.0.0.1:9100").rstrip("/")
    config = json.loads(DEMO_FILE.read_text())["platforms"]
    created = 0
    for platform in Platform.objects.filter(code__in=config).order_by("code"):
        cfg = config[platform.code]
        existing = Connector.objects.filter(platform=platform).first()
        if existing is not None:
            # `make run MOCK_PORT=…` moves the stand-in platforms: follow them, demo connectors only
            if existing.key_id == cfg["key_id"] and existing.base_url != f"{base}/{platform.code}":
                services.save_connector(
                    admin,
                    platform,
                    base_url=f"{base}/{platform.code}",
                    key_id=existing.key_id,
                    capabilities=existing.capabilities,
                    enabled=existing.enabled,
                    timeout_s=existing.timeout_s,
                    max_attempts=existing.max_attempts,
                )
            continue
        services.save_connector(
            admin,
            platform,
            base_url=f"{base}/{platform.code}",
            key_id=cfg["key_id"],
            secret=cfg["secret"],
            capabilities=["query", "freeze", "unfreeze", "renew", "deduct"],
            timeout_s=5,
        )
        created += 1
    return created
