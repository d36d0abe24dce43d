"""Platforms that hold debtors' property (e-commerce, payment, cross-border).

Connectors, notices and delivery attempts are added with the notice pipeline; clues refer to a
platform from the start so a holder is never free text.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlatformKind(models.TextChoices):
    ECOMMERCE = "ecommerce", _("电商平台")
    PAYMENT = "payment", _("支付机构")
    CROSS_BORDER = "cross_border", _("跨境电商平台")
    OTHER = "other", _("其他")


class Platform(models.Model):
    """A platform or payment institution that can be asked to assist enforcement."""

    code = models.SlugField(_("平台代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=PlatformKind.choices)
    hq_court = models.ForeignKey(
        "enforcement.Court",
        verbose_name=_("住所地基层法院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.CharField(_("住所地行政区划"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("平台")
        verbose_name_plural = _("平台")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
