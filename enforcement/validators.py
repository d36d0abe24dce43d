"""Validation of identity numbers with python-stdnum, with messages that name field and rule."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc


def _explain(label: str, module, value: str) -> str:
    """Validate ``value`` with a stdnum module and return its compact form, or raise in Chinese."""
    try:
        return module.validate(value)
    except stdnum_errors.InvalidLength:
        message = _("%(label)s须为18位，当前为%(length)d位") % {"label": label, "length": len(module.compact(value))}
    except stdnum_errors.InvalidFormat:
        message = _("%(label)s包含不允许的字符或格式不正确") % {"label": label}
    except stdnum_errors.InvalidChecksum:
        message = _("%(label)s校验位错误") % {"label": label}
    except stdnum_errors.InvalidComponent:
        message = _("%(label)s中的地区码或出生日期无效") % {"label": label}
    except stdnum_errors.ValidationError:
        message = _("%(label)s无效") % {"label": label}
    raise ValidationError(message, code="invalid")


def normalize_id_number(value: str) -> str:
    """身份证号: 18 characters, ISO 7064 MOD 11-2 check; a lowercase x is read as X."""
    return _explain(_("身份证号"), ric, (value or "").strip().upper())


def normalize_uscc(value: str) -> str:
    """统一社会信用代码: 18 characters, GB 32100 MOD 31 check; letters are read in upper case."""
    return _explain(_("统一社会信用代码"), uscc, (value or "").strip().upper())
