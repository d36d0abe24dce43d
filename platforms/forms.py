"""Forms of the notice and connector pages. They parse what the user typed; the rules live in
``platforms/services.py`` and their messages are put next to the fields by ``apply_service_errors``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clues.forms import AMOUNT_INPUT, clue_choice_label
from clues.services import clue_label

from .models import Capability, FreezeMode, NoticeKind, PlatformKind

ALL = "all"


class PlatformCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose inputs carry ``data-capabilities`` (static/js/app.js disables the platforms
    that cannot take the chosen kind; the service checks again)."""

    def __init__(self, *args, capabilities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.capabilities = capabilities or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"]["data-capabilities"] = " ".join(self.capabilities.get(str(value), []))
        return option


class NoticeForm(forms.Form):
    """Send a notice to one, several or all connected platforms."""

    kind = forms.ChoiceField(
        label=_("通知类型"),
        choices=NoticeKind.choices,
        initial=NoticeKind.QUERY,
        widget=forms.Select(attrs={"data-platform-filter": "platforms"}),
    )
    all_platforms = forms.BooleanField(label=_("全部平台"), required=False, initial=True)
    platforms = forms.MultipleChoiceField(label=_("平台"), required=False)
    respondent = forms.ChoiceField(label=_("被执行人"), required=False)
    clue = forms.ChoiceField(label=_("财产线索"), required=False)
    measure = forms.ChoiceField(label=_("措施（解冻、续行）"), required=False)
    account = forms.CharField(label=_("账户"), max_length=128, required=False)
    amount = forms.CharField(label=_("金额"), max_length=32, required=False, widget=AMOUNT_INPUT)
    freeze_mode = forms.ChoiceField(label=_("冻结方式"), choices=FreezeMode.choices, initial=FreezeMode.AMOUNT)

    def __init__(self, *args, connectors, respondents, clues, measures, **kwargs):
        super().__init__(*args, **kwargs)
        capabilities = {c.platform.code: list(c.capabilities) for c in connectors}
        self.fields["platforms"].choices = [(c.platform.code, c.platform.name) for c in connectors]
        self.fields["platforms"].widget = PlatformCheckboxes(capabilities=capabilities)
        self.fields["respondent"].choices = [(party.pk, party.name) for party in respondents]
        self.fields["clue"].choices = [("", "---------"), *((clue.pk, clue_choice_label(clue)) for clue in clues)]
        self.fields["measure"].choices = [
            ("", "---------"),
            *((m.pk, f"#{m.pk} {clue_label(m.clue)} · {m.clue.account}") for m in measures),
        ]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "platforms": ALL if data.get("all_platforms") else list(data.get("platforms") or []),
            "respondent": data.get("respondent") or None,
            "clue": data.get("clue") or None,
            "measure": data.get("measure") or None,
            "account": data.get("account") or "",
            "amount": data.get("amount") or None,
            "freeze_mode": data.get("freeze_mode") or FreezeMode.AMOUNT,
        }


class QueryAllForm(forms.Form):
    """一键查询: one respondent on every enabled connector."""

    respondent = forms.ChoiceField(label=_("被执行人"))

    def __init__(self, *args, respondents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["respondent"].choices = [(party.pk, f"{party.name}（{party.identifier}）") for party in respondents]


class FreezeFoundForm(forms.Form):
    """Freeze accounts found by a query: one notice per ticked account, each with its amount."""

    pick = forms.MultipleChoiceField(label=_("冻结账户"), required=False, widget=forms.CheckboxSelectMultiple)
    freeze_mode = forms.ChoiceField(label=_("冻结方式"), choices=FreezeMode.choices, initial=FreezeMode.AMOUNT)

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.fields["pick"].choices = [(row["key"], row["account"]) for row in rows]
        for row in rows:
            self.fields[f"amount_{row['key']}"] = forms.CharField(
                label=_("冻结金额"), max_length=32, required=False, widget=AMOUNT_INPUT
            )

    def clean(self):
        data = super().clean()
        if not data.get("pick"):
            raise forms.ValidationError(_("请勾选要冻结的账户"))
        return data

    def amount_field(self, key: str):
        return self[f"amount_{key}"]

    def picked(self) -> list[tuple[dict, str]]:
        """The ticked rows with the amount typed for each."""
        keys = set(self.cleaned_data.get("pick") or [])
        return [(row, self.cleaned_data.get(f"amount_{row['key']}") or "") for row in self.rows if row["key"] in keys]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("撤销理由"), max_length=255, required=False)


# --------------------------------------------------------------------------------------------
# platforms and connectors (system admins)
# --------------------------------------------------------------------------------------------


class PlatformForm(forms.Form):
    code = forms.CharField(label=_("平台代码"), max_length=32, required=False)
    name = forms.CharField(label=_("名称"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=PlatformKind.choices, initial=PlatformKind.ECOMMERCE)
    region = forms.CharField(label=_("住所地行政区划"), max_length=6, required=False)


class ConnectorForm(forms.Form):
    base_url = forms.CharField(label=_("接口地址"), max_length=255, required=False)
    key_id = forms.CharField(label=_("密钥编号"), max_length=64, required=False)
    secret = forms.CharField(
        label=_("密钥"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    capabilities = forms.MultipleChoiceField(
        label=_("支持的通知"), choices=Capability.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)
    timeout_s = forms.IntegerField(label=_("超时（秒）"), initial=10)
    max_attempts = forms.IntegerField(label=_("最多尝试次数"), initial=12)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["secret"].help_text = _("留空表示不修改密钥；已保存的密钥不再显示")
        else:
            self.fields["capabilities"].initial = list(Capability.values)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "base_url": (data.get("base_url") or "").strip(),
            "key_id": data.get("key_id") or "",
            "secret": data.get("secret") or None,
            "capabilities": list(data.get("capabilities") or []),
            "enabled": bool(data.get("enabled")),
            "timeout_s": data["timeout_s"],
            "max_attempts": data["max_attempts"],
        }


class RotateForm(forms.Form):
    secret = forms.CharField(
        label=_("新密钥"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    key_id = forms.CharField(label=_("新密钥编号（可选）"), max_length=64, required=False)
    grace_hours = forms.IntegerField(label=_("旧密钥宽限（小时）"), initial=24, min_value=0, max_value=720)
