"""Django admin for operators: courts and users only. Case content is not shown here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Court, Role, User


@admin.register(Court)
class CourtAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "region")
    list_filter = ("level",)
    search_fields = ("code", "name", "region")
    readonly_fields = ("path",)

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
