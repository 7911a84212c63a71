"""Purchases, payments, callbacks, tokens and SMS: read-only records, changed only by services.

Staff act on a purchase through actions that call the back office services (which check the role
again and write the audit trail): resend the token SMS, reprint it (shown once), refund with a reason,
and read the purchase's story.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from backoffice import permissions as perms
from backoffice.admin.base import NumberSearchMixin, ReadOnlyAdmin
from backoffice.admin.forms import ReasonForm, ReceiptForm
from backoffice.admin.pages import action_form, applying, page, report_error
from backoffice.services.approvals import refund_needs_approval, refund_request
from backoffice.services.review import staff_confirm_paid_and_vend, staff_payment_query, staff_refund_record_manual
from backoffice.services.support import staff_purchase_refund, staff_token_reprint, staff_token_resend
from backoffice.story import purchase_story
from vending.exceptions import VendingError
from vending.models import Payment, ProviderCallback, Purchase, Refund, SmsAttempt, SmsMessage, Token
from vending.payments.base import PaymentError
from vending.services.audit import audit_record


def masked_digits(token: Token) -> str:
    """Token digits stay hidden in lists; the audited reprint shows them."""
    return f"•••• •••• •••• •••• {token.digits[-4:]}"


class PaymentInline(admin.StackedInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = readonly_fields = (*[f.name for f in Payment._meta.fields if f.name != "flagged"], "review_flag")

    @admin.display(description="flag")
    def review_flag(self, obj: Payment) -> str:
        return flag_text(obj.flagged) or "no"

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
class PurchaseAdmin(NumberSearchMixin, ReadOnlyAdmin):
    phone_search_field = "payer_phone"
    meter_search_field = "meter__drn"
    list_display = [
        "reference",
        "created_at",
        "meter",
        "payer_phone",
        "wallet",
        "amount",
        "currency",
        "state",
        "channel",
    ]
    list_filter = ["state", "channel", "wallet", "currency"]
    search_fields = [
        "reference",
        "idempotency_key",
        "payer_phone",
        "meter__drn",
        "payment__provider_reference",
        "payment__receipt",
    ]
    date_hierarchy = "created_at"
    inlines = [PaymentInline, TokenInline]
    readonly_fields = ["story_link", "quote_shown"]
    exclude = ["quote"]  # shown as quote_shown: people read "KES 500 = 28.3 kWh", not JSON
    actions = ["resend_token", "refund", "query_provider", "confirm_paid_and_vend", "record_manual_refund"]

    @admin.display(description="quote")
    def quote_shown(self, obj: Purchase) -> str:
        return quote_text(obj.quote)

    @admin.display(description="story")
    def story_link(self, obj: Purchase) -> str:
        return format_html(
            '<a href="{}" id="story-link">Every step of this purchase</a>',
            reverse("admin:vending_purchase_story", args=[obj.pk]),
        )

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
            return action_form(
                request,
                queryset,
                form=form,
                action="refund",
                title="Refund purchases",
                note="The payment is reversed or refunded; the customer is told by SMS.",
            )
        for purchase in queryset:
            try:
                if refund_needs_approval(purchase=purchase):
                    approval = refund_request(actor=request.user, purchase=purchase, reason=form.cleaned_data["reason"])
                    messages.warning(
                        request,
                        f"{purchase.reference}: above the refund threshold; request "
                        f"#{approval.pk} waits for a second person's approval.",
                    )
                    continue
                staff_purchase_refund(actor=request.user, purchase=purchase, reason=form.cleaned_data["reason"])
                messages.success(request, f"{purchase.reference}: refund started.")
            except (VendingError, ImportError) as exc:
                messages.error(request, f"{purchase.reference}: {exc}")
        return None

    # -- the needs-review queue: filter state = needs review / refund in progress, then act ---------------

    @admin.action(description="Needs review: query the provider again", permissions=["refund"])
    def query_provider(self, request, queryset):
        for purchase in queryset:
            try:
                payment = staff_payment_query(actor=request.user, purchase=purchase)
                messages.info(
                    request,
                    f"{purchase.reference}: payment {payment.get_state_display().lower()}"
                    f"{f' ({payment.provider_message})' if payment.provider_message else ''}.",
                )
            except (VendingError, PaymentError) as exc:  # a provider error is reported, never a 500
                messages.error(request, f"{purchase.reference}: {exc}")

    @admin.action(description="Needs review: confirm paid (receipt) and vend", permissions=["refund"])
    def confirm_paid_and_vend(self, request, queryset):
        return self._with_receipt(
            request,
            queryset,
            "confirm_paid_and_vend",
            "Confirm paid and vend",
            staff_confirm_paid_and_vend,
            "paid; the token is being made",
        )

    @admin.action(description="Refund made by hand: record the provider's receipt", permissions=["refund"])
    def record_manual_refund(self, request, queryset):
        return self._with_receipt(
            request,
            queryset,
            "record_manual_refund",
            "Record a refund made by hand",
            staff_refund_record_manual,
            "refund recorded as done",
        )

    def _with_receipt(self, request, queryset, action: str, title: str, service, done: str):
        form = ReceiptForm(request.POST if applying(request) else None)
        if queryset.count() != 1:
            messages.error(request, "Choose exactly one purchase: each has its own receipt.")
            return None
        if not form.is_valid():
            return action_form(
                request,
                queryset,
                form=form,
                action=action,
                title=title,
                note="The receipt is checked against the provider's statement later.",
            )
        purchase = queryset.get()
        try:
            service(
                actor=request.user,
                purchase=purchase,
                receipt=form.cleaned_data["receipt"],
                reason=form.cleaned_data["reason"],
            )
        except VendingError as exc:
            messages.error(request, f"{purchase.reference}: {exc}")
            return None
        messages.success(request, f"{purchase.reference}: {done}.")
        return None

    def story_view(self, request, pk: int):
        purchase = get_object_or_404(Purchase.objects.select_related("meter", "customer"), pk=pk)
        if not self.has_view_permission(request, purchase):
            raise DjangoPermissionDenied
        return page(
            request,
            "backoffice/purchase_story.html",
            f"Story of purchase {purchase.reference}",
            purchase=purchase,
            entries=purchase_story(purchase),
            opts=self.opts,
            can_reprint=perms.allowed(request.user, perms.REPRINT_TOKEN),
            can_resend=perms.allowed(request.user, perms.RESEND_TOKEN),
        )

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
            tokens = staff_token_reprint(actor=request.user, purchase=purchase, reason=request.POST.get("reason", ""))
        except VendingError as exc:
            report_error(request, exc)
            return redirect(back)
        return page(
            request, "backoffice/tokens_once.html", f"Tokens of purchase {purchase.reference}", tokens=tokens, back=back
        )


def quote_text(quote: object) -> str:
    """A stored quote as people read it; whatever cannot be read is said so, never dumped as JSON."""
    if not isinstance(quote, dict) or "amount" not in quote:
        return "—"
    try:

        def money(key: str) -> str:
            return f"{Decimal(str(quote.get(key) or 0)):,.2f}"

        parts = [f"{quote.get('currency', '')} {money('amount')} = {Decimal(str(quote.get('kwh') or 0)):,.1f} kWh"]
        parts.append(
            f"energy {money('energy_amount')}, VAT {money('vat')} ({quote.get('vat_percent', 0)}%), "
            f"fixed charge {money('fixed_charge')}, debt {money('debt_recovery')}"
        )
        blocks = quote.get("blocks_used") or []
        if blocks:
            parts.append(
                "blocks: "
                + "; ".join(f"{Decimal(str(b['kwh'])):,.1f} kWh at {Decimal(str(b['price'])):,.2f}" for b in blocks)
            )
    except (ArithmeticError, KeyError, TypeError, ValueError):
        return "a quote in an older format"
    return " · ".join(parts)


def flag_text(flagged: bool) -> str:
    return "⚑ needs a person" if flagged else ""


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "purchase",
        "provider",
        "state",
        "provider_reference",
        "receipt",
        "amount_requested",
        "amount_confirmed",
        "review_flag",
    ]

    @admin.display(description="flag", ordering="flagged")
    def review_flag(self, obj: Payment) -> str:
        # Not a boolean column: an unflagged payment is normal, not a red cross.
        return flag_text(obj.flagged)

    list_filter = ["provider", "state", "flagged"]
    search_fields = ["provider_reference", "receipt", "purchase__reference", "purchase__payer_phone"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Money given back: requested (waiting for the provider), completed (with the provider's receipt), failed."""

    list_display = ["created_at", "purchase", "method", "state", "amount", "currency", "receipt", "completed_at"]
    list_filter = ["state", "method", "currency"]
    search_fields = ["purchase__reference", "receipt", "provider_reference", "payment__receipt"]


@admin.register(ProviderCallback)
class ProviderCallbackAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "kind", "payment", "review_flag", "processed_at"]
    list_filter = ["provider", "kind", "flagged"]

    @admin.display(description="flag", ordering="flagged")
    def review_flag(self, obj: ProviderCallback) -> str:
        return flag_text(obj.flagged)

    search_fields = ["body", "payment__purchase__reference"]


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "meter", "kind", "token_class", "subclass", "tid", "units", "purchase"]
    list_filter = ["kind", "token_class"]
    # Not the digits: a search by digit prefix would confirm a token digit by digit, skipping the audited
    # reprint. Only a role with the reprint right finds a token by its whole 20 digits, and that is audited.
    search_fields = ("meter__drn", "purchase__reference")
    fields = (
        "meter",
        "purchase",
        "kind",
        "token_class",
        "subclass",
        "sequence",
        "tid",
        "units",
        "token",
        "reason",
        "issued_by",
        "created_at",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(search_term.split()).replace("-", "")
        if len(digits) == 20 and digits.isdigit() and perms.allowed(request.user, perms.REPRINT_TOKEN):
            matches = queryset.filter(digits=digits)
            audit_record(
                action="token.searched_by_digits",
                obj=request.user,
                actor=request.user,
                data={"last_digits": digits[-4:], "found": matches.count()},
            )
            found = found | matches
        return found, may_have_duplicates

    @admin.display(description="token")
    def token(self, obj: Token) -> str:
        return masked_digits(obj)


class SmsAttemptInline(admin.TabularInline):
    """Every gateway tried for this message, in order (routing and failover)."""

    model = SmsAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "route", "gateway", "outcome", "detail", "provider_message_id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "direction", "phone", "status", "gateway", "segments", "purchase"]
    list_filter = ["direction", "status", "gateway", "provider"]
    inlines = [SmsAttemptInline]
    search_fields = ["phone", "provider_message_id", "purchase__reference"]
