from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file, so the page works under the CSP
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("clues.api.urls")),
    path("api/v1/", include("platforms.api.urls")),
    path("api/v1/", include("transfers.api.urls")),
    path("api/v1/", include("enforcement.api.urls")),
    path("", include("clues.urls")),
    path("", include("platforms.urls")),
    path("", include("transfers.urls")),
    path("", include("enforcement.urls")),
]

handler404 = "enforcement.api.exceptions.not_found"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
