"""Purchases, payments, callbacks, tokens and SMS: read-only records, changed only by services."""

from django.contrib import admin

from vending.models import Payment, ProviderCallback, Purchase, SmsMessage, Token


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and token records are written by services, never typed in."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentInline(admin.StackedInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


class TokenInline(admin.TabularInline):
    model = Token
    extra = 0
    can_delete = False
    fields = ["kind", "token_class", "subclass", "tid", "units", "digits", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["reference", "created_at", "meter", "payer_phone", "wallet", "amount", "currency",
                    "state", "channel"]
    list_filter = ["state", "channel", "wallet", "currency"]
    search_fields = ["reference", "idempotency_key", "payer_phone", "meter__drn", "payment__provider_reference",
                     "payment__receipt"]
    date_hierarchy = "created_at"
    inlines = [PaymentInline, TokenInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["purchase", "provider", "state", "provider_reference", "receipt", "amount_requested",
                    "amount_confirmed", "flagged"]
    list_filter = ["provider", "state", "flagged"]
    search_fields = ["provider_reference", "receipt", "purchase__reference", "purchase__payer_phone"]


@admin.register(ProviderCallback)
class ProviderCallbackAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "kind", "payment", "flagged", "processed_at"]
    list_filter = ["provider", "kind", "flagged"]
    search_fields = ["body", "payment__purchase__reference"]


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "meter", "kind", "token_class", "subclass", "tid", "units", "purchase"]
    list_filter = ["kind", "token_class"]
    search_fields = ["meter__drn", "purchase__reference", "digits"]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "direction", "phone", "status", "provider", "purchase"]
    list_filter = ["direction", "status", "provider"]
    search_fields = ["phone", "provider_message_id", "purchase__reference"]
