"""Forms of the transfer pages. They parse what the user typed; the rules live in
``transfers/services.py`` and their messages are put next to the fields by ``apply_service_errors``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BankruptcyStepKind, ExcludedKind, Mode, Trigger

# Modes offered on the pages; 执转破 only when the respondent is an entity and the user handles the case.
PAGE_MODES = [(m.value, m.label) for m in Mode if m != Mode.BANKRUPTCY]


class TransferCreateForm(forms.Form):
    """发起交叉执行 (a supervisor) or 报请交叉执行 (the original court's bureau head)."""

    mode = forms.ChoiceField(label=_("方式"), choices=PAGE_MODES, initial=Mode.DESIGNATE)
    trigger = forms.ChoiceField(label=_("启动方式"), choices=Trigger.choices)
    reason = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    receiving_court = forms.ChoiceField(label=_("建议接收法院"), required=False)
    application_document = forms.ChoiceField(label=_("237条申请书"), required=False)
    consent_document = forms.ChoiceField(label=_("破产审查书面同意"), required=False)
    cases = forms.MultipleChoiceField(
        label=_("同一被执行人的其他案件"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, triggers, courts, documents, modes=None, others=(), **kwargs):
        super().__init__(*args, **kwargs)
        modes = list(modes) if modes is not None else [m for m, _label in PAGE_MODES]
        self.fields["mode"].choices = [(m, Mode(m).label) for m in modes]
        if Mode.DESIGNATE not in modes:
            self.fields["mode"].initial = modes[0]
        self.fields["trigger"].choices = [(t, Trigger(t).label) for t in triggers]
        self.fields["trigger"].initial = triggers[0]
        self.fields["receiving_court"].choices = [("", "---------"), *((c.pk, c.name) for c in courts)]
        document_choices = [("", "---------"), *((d.pk, d.title) for d in documents)]
        self.fields["application_document"].choices = document_choices
        self.fields["consent_document"].choices = document_choices
        self.fields["cases"].choices = [(c.pk, f"{c.number}（{c.court.name}）") for c in others]
        self.offers_bankruptcy = Mode.BANKRUPTCY in modes
        self.offers_cases = bool(self.fields["cases"].choices)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "trigger": data["trigger"],
            "reason": data.get("reason") or "",
            "receiving_court": data.get("receiving_court") or None,
            "application_document": data.get("application_document") or None,
            "consent_document": data.get("consent_document") or None,
            "cases": [int(pk) for pk in data.get("cases") or []],
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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the rules on each file (type, size, empty) are the document
    service's, so the field only collects them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        return [f for f in (data if isinstance(data, list | tuple) else [data]) if f]


class SupplyForm(forms.Form):
    """补充材料: a note and the files supplied (into the original case's file)."""

    note = forms.CharField(label=_("补充说明"), required=False)
    files = MultipleFileField(label=_("材料文件"), required=False)

    def __init__(self, *args, material_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.material_id = material_id


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


class ReconsiderationAnswerForm(forms.Form):
    """复议答复: the deciding court upholds or revokes its decision."""

    upheld = forms.ChoiceField(
        label=_("复议结果"),
        choices=[("1", _("维持原决定")), ("0", _("撤销原决定"))],
        initial="1",
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(label=_("复议意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BankruptcyStepForm(forms.Form):
    """执转破 internal decision step (the next one in order)."""

    kind = forms.ChoiceField(label=_("环节"), choices=BankruptcyStepKind.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExcludedPeriodForm(forms.Form):
    """237条不计入期间."""

    kind = forms.ChoiceField(label=_("类型"), choices=[("", "---------"), *ExcludedKind.choices], required=False)
    started_on = forms.DateField(label=_("起始日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(label=_("截止日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("说明"), max_length=255, required=False)


class TriggerConfigForm(forms.Form):
    """A high court's trigger thresholds (the service checks the numbers)."""

    same_respondent_min_cases = forms.CharField(label=_("同一被执行人未结案件数（件）"), max_length=8, required=False)
    same_respondent_min_courts = forms.CharField(label=_("涉及法院数（个）"), max_length=8, required=False)
    undisposed_months = forms.CharField(label=_("财产未处置（月）"), max_length=8, required=False)
    stalled_days = forms.CharField(label=_("无进展（日）"), max_length=8, required=False)
