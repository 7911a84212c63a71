"""Purchases, payments, callbacks, tokens and SMS: read-only records, changed only by services.

Staff act on a purchase through actions that call the back office services (which check the role
again and write the audit trail): resend the token SMS, reprint it (shown once), refund with a reason,
and read the purchase's story.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from backoffice import permissions as perms
from backoffice.admin.forms import ReasonForm
from backoffice.admin.pages import action_form, applying, page, report_error
from backoffice.services.support import staff_purchase_refund, staff_token_reprint, staff_token_resend
from backoffice.story import purchase_story
from vending.admin.base import ReadOnlyAdmin
from vending.exceptions import VendingError
from vending.models import Payment, ProviderCallback, Purchase, SmsMessage, Token


def masked_digits(token: Token) -> str:
    """Token digits stay hidden in lists; the audited reprint shows them."""
    return f"•••• •••• •••• •••• {token.digits[-4:]}"


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
    fields = ("kind", "token_class", "subclass", "tid", "units", "token", "created_at")
    readonly_fields = fields

    @admin.display(description="token")
    def token(self, obj: Token) -> str:
        return masked_digits(obj)

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
    readonly_fields = ["story_link"]
    actions = ["resend_token", "refund"]

    @admin.display(description="story")
    def story_link(self, obj: Purchase) -> str:
        return format_html('<a href="{}" id="story-link">Every step of this purchase</a>',
                           reverse("admin:vending_purchase_story", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/story/", view(self.story_view), name="vending_purchase_story"),
            path("<int:pk>/reprint/", view(self.reprint_view), name="vending_purchase_reprint"),
            path("<int:pk>/resend/", view(self.resend_view), name="vending_purchase_resend"),
            *super().get_urls(),
        ]

    def has_resend_token_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.RESEND_TOKEN)

    def has_refund_permission(self, request) -> bool:
        return perms.allowed(request.user, perms.REFUND_PURCHASE)

    @admin.action(description="Resend the token SMS to the buyer", permissions=["resend_token"])
    def resend_token(self, request, queryset):
        sent = 0
        for purchase in queryset:
            try:
                staff_token_resend(actor=request.user, purchase=purchase)
                sent += 1
            except VendingError as exc:
                messages.error(request, f"{purchase.reference}: {exc}")
        if sent:
            messages.success(request, f"Token SMS resent for {sent} purchase(s).")

    @admin.action(description="Reverse / refund the payment (reason required)", permissions=["refund"])
    def refund(self, request, queryset):
        form = ReasonForm(request.POST if applying(request) else None)
        if not form.is_valid():
            return action_form(request, queryset, form=form, action="refund", title="Refund purchases",
                               note="The payment is reversed or refunded; the customer is told by SMS.")
        for purchase in queryset:
            try:
                staff_purchase_refund(actor=request.user, purchase=purchase, reason=form.cleaned_data["reason"])
                messages.success(request, f"{purchase.reference}: refund started.")
            except (VendingError, ImportError) as exc:
                messages.error(request, f"{purchase.reference}: {exc}")
        return None

    def story_view(self, request, pk: int):
        purchase = get_object_or_404(Purchase.objects.select_related("meter", "customer"), pk=pk)
        if not self.has_view_permission(request, purchase):
            raise DjangoPermissionDenied
        return page(request, "backoffice/purchase_story.html", f"Story of purchase {purchase.reference}",
                    purchase=purchase, entries=purchase_story(purchase), opts=self.opts,
                    can_reprint=perms.allowed(request.user, perms.REPRINT_TOKEN),
                    can_resend=perms.allowed(request.user, perms.RESEND_TOKEN))

    def resend_view(self, request, pk: int):
        purchase = get_object_or_404(Purchase, pk=pk)
        if request.method == "POST":
            try:
                staff_token_resend(actor=request.user, purchase=purchase, reason=request.POST.get("reason", ""))
                messages.success(request, f"Token SMS resent to {purchase.payer_phone}.")
            except VendingError as exc:
                report_error(request, exc)
        return redirect(reverse("admin:vending_purchase_story", args=[pk]))

    def reprint_view(self, request, pk: int):
        purchase = get_object_or_404(Purchase, pk=pk)
        back = reverse("admin:vending_purchase_story", args=[pk])
        if request.method != "POST":
            return redirect(back)
        try:
            tokens = staff_token_reprint(actor=request.user, purchase=purchase,
                                         reason=request.POST.get("reason", ""))
        except VendingError as exc:
            report_error(request, exc)
            return redirect(back)
        return page(request, "backoffice/tokens_once.html", f"Tokens of purchase {purchase.reference}",
                    tokens=tokens, back=back)


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
    fields = ("meter", "purchase", "kind", "token_class", "subclass", "sequence", "tid", "units", "token",
              "reason", "issued_by", "created_at")
    readonly_fields = fields

    @admin.display(description="token")
    def token(self, obj: Token) -> str:
        return masked_digits(obj)


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "direction", "phone", "status", "provider", "purchase"]
    list_filter = ["direction", "status", "provider"]
    search_fields = ["phone", "provider_message_id", "purchase__reference"]
