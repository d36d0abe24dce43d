"""Forms of the HTML side. They parse what the user typed; the rules live in ``services.py``.

Most fields are optional here on purpose: the services check them and answer in the court's own
words, and ``apply_service_errors`` puts those messages next to the fields.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CaseStatus, CaseType, ClosingMethod, DocumentType, PartyKind, Role, User
from .services import CLOSE_FROM_FILED, SYSTEM_ONLY_CLOSINGS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def judge_choices(court) -> list[tuple[int, str]]:
    """Active judges of ``court`` for the 承办人 select."""
    if court is None:
        return []
    judges = User.objects.filter(court=court, roles__code=Role.JUDGE, is_active=True).distinct().order_by("pk")
    return [(user.pk, str(user)) for user in judges]


class PartyForm(forms.Form):
    """One applicant or respondent entered with the case."""

    kind = forms.ChoiceField(label=_("类型"), choices=PartyKind.choices, initial=PartyKind.PERSON, required=False)
    name = forms.CharField(label=_("名称/姓名"), max_length=200, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=32, required=False)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=32, required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any((data.get(key) or "").strip() for key in ("name", "id_number", "uscc"))

    def as_service_entry(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or "",
            "name": data.get("name") or "",
            "id_number": data.get("id_number") or "",
            "uscc": data.get("uscc") or "",
        }


PartyFormSet = formset_factory(PartyForm, extra=0, min_num=1, max_num=50, absolute_max=50)


class CaseCreateForm(forms.Form):
    type_code = forms.ChoiceField(label=_("类型代字"), choices=CaseType.choices, initial=CaseType.ENFORCEMENT)
    basis_document_number = forms.CharField(label=_("执行依据文号"), max_length=100, required=False)
    basis_issuing_court = forms.CharField(label=_("执行依据作出机关"), max_length=100, required=False)
    amount_due = forms.CharField(
        label=_("执行标的"), max_length=32, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    filed_on = forms.DateField(label=_("立案日期"), required=False, widget=DATE_INPUT)
    assigned_judges = forms.TypedMultipleChoiceField(label=_("承办人"), coerce=int, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_judges"].choices = judge_choices(user.court)
        self.fields["filed_on"].initial = timezone.localdate()
        if user.has_role(Role.JUDGE) and not user.has_role(Role.BUREAU_HEAD):
            # A judge files cases for themself; a bureau head chooses whom to assign.
            self.fields["assigned_judges"].initial = [user.pk]


class CaseEditForm(forms.Form):
    basis_document_number = forms.CharField(label=_("执行依据文号"), max_length=100, required=False)
    basis_issuing_court = forms.CharField(label=_("执行依据作出机关"), max_length=100, required=False)
    amount_due = forms.CharField(
        label=_("执行标的"), max_length=32, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )


class AssignForm(forms.Form):
    assigned_judges = forms.TypedMultipleChoiceField(
        label=_("承办人"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, court, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_judges"].choices = judge_choices(court)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.HiddenInput)
    closing_method = forms.ChoiceField(label=_("结案方式"), required=False)
    reason = forms.CharField(label=_("理由"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        methods = [
            (value, label)
            for value, label in ClosingMethod.choices
            if value not in SYSTEM_ONLY_CLOSINGS and (case.status != CaseStatus.FILED or value in CLOSE_FROM_FILED)
        ]
        self.fields["closing_method"].choices = [("", "---------"), *methods]


class ResumeForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("材料类型"), choices=DocumentType.choices)
    title = forms.CharField(label=_("标题"), max_length=200, required=False)
    file = forms.FileField(label=_("文件"), required=False)


def apply_service_errors(exc: ValidationError, form: forms.Form, formsets: dict | None = None) -> dict[str, list]:
    """Put a service's ``{field: [messages]}`` next to the fields that caused them.

    Keys ``group.N.field`` go to row N of the formset named ``group`` (``formsets`` maps the
    group to ``(formset, row_indexes)``: the service's N-th entry is the formset's row
    ``row_indexes[N]``). Keys naming a whole group are returned for display above that group;
    anything else that is not a field of ``form`` becomes a non-field error.
    """
    formsets = formsets or {}
    group_errors: dict[str, list] = {}
    for key, messages in exc.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] in formsets and parts[1].isdigit():
            formset, rows = formsets[parts[0]]
            index = int(parts[1])
            row_form = formset.forms[rows[index]] if index < len(rows) else None
            if row_form is not None:
                row_form.add_error(parts[2] if parts[2] in row_form.fields else None, messages)
                continue
        if key in formsets:
            group_errors.setdefault(key, []).extend(messages)
        elif key in form.fields:
            form.add_error(key, messages)
        else:
            form.add_error(None, messages)
    return group_errors
