"""Session limits: a session ends after 30 minutes idle and 12 hours after login at most."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

LOGIN_AT = "_login_at"
LAST_SEEN = "_last_seen"


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # Token-authenticated API calls carry no session; only session logins are limited here.
        if user is not None and user.is_authenticated and request.session.session_key:
            now = time.time()
            login_at = request.session.get(LOGIN_AT)
            last_seen = request.session.get(LAST_SEEN, now)
            if login_at is None:
                request.session[LOGIN_AT] = now
            elif (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT_S
                or now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT_S
            ):
                logout(request)
                return self.get_response(request)
            # Writing on every request would hit the session store each time; a minute is enough.
            if now - last_seen >= 60 or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class CourtLanguageMiddleware:
    """Chinese unless the user chose another language with the switch (the language cookie).

    Court computers may run browsers set to English; the UI still opens in zh-hans. Placed before
    Django's LocaleMiddleware, which then sees no Accept-Language header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
