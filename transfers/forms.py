"""Forms of the transfer pages. They parse what the user typed; the rules live in
``transfers/services.py`` and their messages are put next to the fields by ``apply_service_errors``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Mode, Trigger

# Modes offered on the pages (执转破 needs the written consent and its internal steps: API only).
PAGE_MODES = [(m.value, m.label) for m in Mode if m != Mode.BANKRUPTCY]


class TransferCreateForm(forms.Form):
    """发起交叉执行 (a supervisor) or 报请交叉执行 (the original court's bureau head)."""

    mode = forms.ChoiceField(label=_("方式"), choices=PAGE_MODES, initial=Mode.DESIGNATE)
    trigger = forms.ChoiceField(label=_("启动方式"), choices=Trigger.choices)
    reason = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    receiving_court = forms.ChoiceField(label=_("建议接收法院"), required=False)
    application_document = forms.ChoiceField(label=_("237条申请书"), required=False)

    def __init__(self, *args, triggers, courts, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].choices = [(t, Trigger(t).label) for t in triggers]
        self.fields["trigger"].initial = triggers[0]
        self.fields["receiving_court"].choices = [("", "---------"), *((c.pk, c.name) for c in courts)]
        self.fields["application_document"].choices = [("", "---------"), *((d.pk, d.title) for d in documents)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "trigger": data["trigger"],
            "reason": data.get("reason") or "",
            "receiving_court": data.get("receiving_court") or None,
            "application_document": data.get("application_document") or None,
        }


class ApproveForm(forms.Form):
    receiving_court = forms.ChoiceField(label=_("接收法院"), required=False)
    deadline_days = forms.CharField(label=_("期限（日）"), max_length=8, required=False)
    decision_number = forms.CharField(label=_("决定文书编号"), max_length=100, required=False)
    note = forms.CharField(label=_("决定意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, courts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiving_court"].choices = [("", "---------"), *courts]
        self.fields["decision_number"].help_text = _("留空自动编号")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "receiving_court": data.get("receiving_court") or None,
            "deadline_days": data.get("deadline_days") or None,
            "decision_number": data.get("decision_number") or "",
            "note": data.get("note") or "",
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AcceptForm(forms.Form):
    judges = forms.MultipleChoiceField(label=_("承办人"), required=False, widget=forms.CheckboxSelectMultiple)
    tasks = forms.CharField(label=_("协同事项"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, judges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["judges"].choices = [(j.pk, str(j)) for j in judges]


class ReportForm(forms.Form):
    text = forms.CharField(label=_("进展情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MaterialsForm(forms.Form):
    description = forms.CharField(label=_("所缺材料"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SupplyForm(forms.Form):
    note = forms.CharField(label=_("补充说明"), required=False)


class ConcludeForm(forms.Form):
    note = forms.CharField(label=_("意见"), required=False)
    returned = forms.BooleanField(label=_("退回"), required=False)


class FileAccessForm(forms.Form):
    case = forms.CharField(label=_("案号"), max_length=64, required=False)
    reason = forms.CharField(label=_("查阅理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    days = forms.CharField(label=_("期限（日）"), max_length=8, required=False)


class GrantDecisionForm(forms.Form):
    days = forms.CharField(label=_("期限（日）"), max_length=8, required=False)
    note = forms.CharField(label=_("意见"), max_length=255, required=False)
