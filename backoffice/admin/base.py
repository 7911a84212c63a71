"""Shared admin bases of every staff page, the core models' and the back office's own."""

from django.contrib import admin
from django.db.models import Q

from backoffice.lookup_terms import meter_digits, phone_forms


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and token records are written by services, never typed in."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NumberSearchMixin:
    """Admin search that also finds phone numbers typed in a local format and meter numbers typed with
    spaces or dashes (backoffice.lookup_terms): `0711 000 111` finds +254711000111, `0412-345-6784` the
    meter 04123456784."""

    phone_search_field = ""  # e.g. "phone": compared with the E.164 forms of the search term
    meter_search_field = ""  # e.g. "drn": compared with the term's digits

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        extra = Q()
        if self.phone_search_field:
            forms = phone_forms(search_term)
            if forms:
                extra |= Q(**{f"{self.phone_search_field}__in": forms})
        if self.meter_search_field:
            digits = meter_digits(search_term)
            if len(digits) >= 3 and digits != search_term.strip():
                extra |= Q(**{f"{self.meter_search_field}__contains": digits})
        if extra:
            found = found | queryset.filter(extra)
            may_have_duplicates = True
        return found, may_have_duplicates
