"""Connector secrets at rest: Fernet with a key from the environment (CONNECTOR_SECRET_KEY).

Without the variable the key is derived from DJANGO_SECRET_KEY, which is fine for `make run`
and tests; production sets its own key so a database dump alone reveals no platform secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.CONNECTOR_SECRET_KEY
    if not key:
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()
    return Fernet(key.encode())


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
