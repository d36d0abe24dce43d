import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.runtime import settle_heap  # noqa: E402  (needs the settings loaded above)

settle_heap()
