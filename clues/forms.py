"""Forms of the clue and measure pages. They parse what the user typed; the rules live in
``clues/services.py`` and their messages are put next to the fields by ``apply_service_errors``."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enforcement.forms import DATE_INPUT

from .models import AssetKind, ClueCategory, ClueKind, ClueSource, ClueStatus, MeasureKind
from .presenters import MASK
from .services import CATEGORY_KINDS, clue_label

# kind -> category, for the data attribute that lets the kind select follow the category.
KIND_CATEGORY = {kind: category for category, kinds in CATEGORY_KINDS.items() for kind in kinds}
AMOUNT_INPUT = forms.TextInput(attrs={"inputmode": "decimal"})


class KindSelect(forms.Select):
    """A select whose options carry ``data-category`` (static/js/app.js hides the other kinds)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        category = KIND_CATEGORY.get(str(value))
        if category:
            option["attrs"]["data-category"] = category
        return option


class ClueForm(forms.Form):
    respondent = forms.ChoiceField(label=_("被执行人"), required=False)
    category = forms.ChoiceField(
        label=_("类别"),
        choices=ClueCategory.choices,
        initial=ClueCategory.FUNDS,
        widget=forms.Select(attrs={"data-kind-filter": "kind"}),
    )
    kind = forms.ChoiceField(label=_("财产种类"), choices=ClueKind.choices, widget=KindSelect)
    platform = forms.ChoiceField(label=_("平台"), required=False)
    registry = forms.CharField(label=_("登记/开户机构"), max_length=100, required=False)
    account = forms.CharField(label=_("账户或登记号"), max_length=128, required=False)
    estimated_value = forms.CharField(label=_("估计价值"), max_length=32, required=False, widget=AMOUNT_INPUT)
    source = forms.ChoiceField(label=_("来源"), choices=ClueSource.choices, initial=ClueSource.APPLICANT)
    urgent = forms.BooleanField(label=_("紧急"), required=False)
    received_on = forms.DateField(label=_("收到日期"), required=False, widget=DATE_INPUT)
    notes = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, respondents, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["respondent"].choices = [(party.pk, party.name) for party in respondents]
        self.fields["platform"].choices = [("", "---------"), *((p.code, p.name) for p in platforms)]
        self.fields["received_on"].initial = timezone.localdate()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "respondent": data.get("respondent") or None,
            "category": data["category"],
            "kind": data["kind"],
            "platform": data.get("platform") or None,
            "registry": data.get("registry") or "",
            "account": data.get("account") or "",
            "estimated_value": data.get("estimated_value") or None,
            "source": data["source"],
            "urgent": bool(data.get("urgent")),
            "received_on": data.get("received_on"),
            "notes": data.get("notes") or "",
        }


class InvalidateForm(forms.Form):
    reason = forms.CharField(label=_("无效原因"), max_length=255, required=False)


def clue_choice_label(clue) -> str:
    """A clue in a select: kind, holder, respondent and account (never a sensitive account)."""
    account = MASK if clue.is_sensitive else clue.account
    return f"{clue_label(clue)} · {clue.respondent.name} · {account}"


class MeasureForm(forms.Form):
    clue = forms.ChoiceField(label=_("财产线索"))
    kind = forms.ChoiceField(label=_("措施"), choices=MeasureKind.choices, initial=MeasureKind.FREEZE)
    asset_kind = forms.ChoiceField(
        label=_("财产类型"), required=False, choices=[("", _("按线索默认")), *AssetKind.choices]
    )
    amount = forms.CharField(label=_("金额"), max_length=32, required=False, widget=AMOUNT_INPUT)
    effective_on = forms.DateField(label=_("生效日"), required=False, widget=DATE_INPUT)
    reduce_to_fit = forms.BooleanField(label=_("超出部分自动减至上限"), required=False)

    def __init__(self, *args, clues, **kwargs):
        super().__init__(*args, **kwargs)
        usable = [clue for clue in clues if clue.status not in (ClueStatus.INVALID, ClueStatus.DISPOSED)]
        self.fields["clue"].choices = [(clue.pk, clue_choice_label(clue)) for clue in usable]
        self.fields["effective_on"].initial = timezone.localdate()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "clue": data["clue"],
            "kind": data["kind"],
            "asset_kind": data.get("asset_kind") or None,
            "amount": data.get("amount") or None,
            "effective_on": data.get("effective_on"),
            "reduce_to_fit": bool(data.get("reduce_to_fit")),
        }


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("解除原因"), max_length=255, required=False)


class RenewForm(forms.Form):
    pass


class VisitScheduleForm(forms.Form):
    scheduled_on = forms.DateField(label=_("计划回访日期"), widget=DATE_INPUT)


class VisitRecordForm(forms.Form):
    visited_on = forms.DateField(label=_("回访日期"), widget=DATE_INPUT)
    count = forms.IntegerField(label=_("数量"), required=False, min_value=0)
    condition = forms.CharField(label=_("状况"), max_length=255, required=False)
    notes = forms.CharField(label=_("记录"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()


class ProceedsForm(forms.Form):
    amount = forms.CharField(label=_("变价款"), max_length=32, required=False, widget=AMOUNT_INPUT)
