from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

ROLES = [
    ("judge", "执行法官"),
    ("bureau_head", "执行局长"),
    ("supervisor", "上级法院监督"),
    ("system_admin", "系统管理员"),
]


def ensure_roles(sender, using="default", **kwargs):
    """Reference data, not domain logic: the four roles exist after every migrate or flush."""
    from .models import Role

    for code, name in ROLES:
        Role.objects.using(using).get_or_create(code=code, defaults={"name": name})


class EnforcementConfig(AppConfig):
    name = "enforcement"
    verbose_name = _("执行案件")

    def ready(self):
        post_migrate.connect(ensure_roles, sender=self)
