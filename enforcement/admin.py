"""Django admin for operators: courts and users only. Case content is not shown here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Court, Role, User


class CourtAdminForm(forms.ModelForm):
    class Meta:
        model = Court
        fields = ("code", "name", "level", "parent", "region", "notice_approval_kinds")

    NOTICE_KINDS = ("query", "freeze", "unfreeze", "renew", "deduct")

    def clean_notice_approval_kinds(self):
        kinds = self.cleaned_data.get("notice_approval_kinds") or []
        if not isinstance(kinds, list) or any(kind not in self.NOTICE_KINDS for kind in kinds):
            raise forms.ValidationError(
                _("须为通知类型的列表，可选：%(kinds)s") % {"kinds": "、".join(self.NOTICE_KINDS)}
            )
        return kinds

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            errors = services.court_errors(
                code=(data.get("code") or "").strip(),
                name=(data.get("name") or "").strip(),
                level=data.get("level") or "",
                parent=data.get("parent"),
                region=(data.get("region") or "").strip(),
            )
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(Court)
class CourtAdmin(admin.ModelAdmin):
    """New courts go through services.create_court (hierarchy path, rules, audit). A court's place
    in the hierarchy never changes afterwards; only its name and region may be corrected."""

    form = CourtAdminForm
    list_display = ("code", "name", "level", "parent", "region", "notice_approval_kinds")
    list_filter = ("level",)
    search_fields = ("code", "name", "region")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "level", "parent", "path") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        court = services.create_court(
            request.user,
            code=obj.code,
            name=obj.name,
            level=obj.level,
            parent=obj.parent,
            region=obj.region,
        )
        obj.pk, obj.path = court.pk, court.path
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "court", "is_active", "is_staff")
    list_filter = ("is_active", "roles", "court__level")
    search_fields = ("username", "display_name", "court__name")
    filter_horizontal = ("roles", "groups", "user_permissions")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("法院与角色"), {"fields": ("court", "display_name", "roles")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("法院与角色"), {"fields": ("court", "display_name", "roles")}),
    )
