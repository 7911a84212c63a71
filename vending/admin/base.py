"""Shared admin bases."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and token records are written by services, never typed in."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
