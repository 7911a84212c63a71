"""The partner API's views: parse, load, call one service, render (docs/DESIGN.md rule 1). Contract: docs/API.md."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vending.api import serializers as s
from vending.api.auth import ApiClient
from vending.api.errors import error_response
from vending.api.receipts import meter_body, money, purchase_body, quote_body
from vending.models import AgentSale, Meter, MeterDebt, Token, TokenVoid
from vending.models.agents import ApiScope
from vending.selectors.agents import balance_locked, float_statement
from vending.selectors.meter_status import meter_vend_check
from vending.selectors.quotes import purchase_quote
from vending.services import agents as agent_services
from vending.services.audit import audit_record


def _error(code: int, description: str) -> OpenApiResponse:
    return OpenApiResponse(s.ErrorResponse, description=description)


class ApiView(APIView):
    """Every call by a known terminal leaves an audit event (method, path, status, key prefix)."""

    required_scope: str | None = ApiScope.VEND

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        client = getattr(request, "_user", None)
        if isinstance(client, ApiClient):
            audit_record(
                action="api.call",
                obj=client.terminal,
                actor_label=f"terminal:{client.terminal.pk}",
                data={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "key": client.key_prefix,
                },
            )
        return response

    def client(self) -> ApiClient:
        user = self.request.user  # HasScope lets only an ApiClient through
        if not isinstance(user, ApiClient):
            raise NotAuthenticated
        return user


def _meter(number: str) -> Meter | None:
    return (
        Meter.objects.select_related("tariff__utility", "supply_group", "pending_supply_group")
        .filter(drn=number)
        .first()
    )


def _json(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


class MeterView(ApiView):
    @extend_schema(
        operation_id="meter_confirm",
        summary="Confirm a meter before taking the cash",
        responses={200: s.MeterResponse, 404: _error(404, "METER_NOT_FOUND")},
    )
    def get(self, request: Request, number: str) -> Response:
        try:
            drn = s.MeterNumberField().run_validation(number)
        except s.serializers.ValidationError:
            return error_response("METER_NOT_FOUND", "No meter with this number.", "number")
        meter = _meter(drn)
        if meter is None:
            return error_response("METER_NOT_FOUND", "No meter with this number.", "number")
        debt = MeterDebt.objects.filter(meter=meter, currency=meter.tariff.currency).aggregate(total=Sum("balance"))[
            "total"
        ] or Decimal(0)
        return Response(meter_body(meter, check=meter_vend_check(meter=meter), debt=debt))


class QuoteView(ApiView):
    @extend_schema(
        operation_id="quote_create",
        summary="Trial vend: units and the whole breakdown, no side effects",
        request=s.QuoteRequest,
        responses={
            200: s.QuoteResponse,
            404: _error(404, "METER_NOT_FOUND"),
            422: _error(422, "AMOUNT_TOO_LOW, AMOUNT_TOO_HIGH, METER_ID_BLOCKED, METER_KEY_INVALID"),
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.QuoteRequest, request.data)
        meter = _meter(data["meter"])
        if meter is None:
            return error_response("METER_NOT_FOUND", "No meter with this number.", "meter")
        agent_services.refuse_unless_vendable(meter=meter)
        agent_services.amount_check(meter=meter, amount=data["amount"])
        quote = purchase_quote(meter=meter, amount=data["amount"], now=timezone.now())
        return Response(quote_body(meter, quote))


def _valid(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PurchasesView(ApiView):
    @extend_schema(
        operation_id="purchase_create",
        summary="Buy a token: from the agent's float (201, tokens now) or by mobile money (202, then poll)",
        request=s.PurchaseRequest,
        responses={
            201: s.PurchaseResponse,
            202: s.PurchaseResponse,
            404: _error(404, "METER_NOT_FOUND"),
            409: _error(409, "DUPLICATE_RECORD: this id was used for another request"),
            422: _error(
                422,
                "LIMIT_EXCEEDED, AMOUNT_TOO_LOW, AMOUNT_TOO_HIGH, CURRENCY_MISMATCH, METER_ID_BLOCKED, "
                "METER_KEY_INVALID, WALLET_NOT_SUPPORTED",
            ),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        data = _valid(s.PurchaseRequest, request.data)
        client = self.client()
        meter = _meter(data["meter"])
        if meter is None:
            return error_response("METER_NOT_FOUND", "No meter with this number.", "meter")
        payment = data["payment"]
        sale_request = agent_services.SaleRequest(
            client_id=data["id"],
            meter=meter,
            amount=data["amount"],
            currency=data["currency"],
            customer_phone=data.get("customer_phone", ""),
            method=payment["method"],
            wallet=payment.get("wallet", ""),
            payer_phone=payment.get("phone", ""),
        )
        # A replay (same id, same body) gets the stored answer; the service decides under the agent's lock.
        sale = agent_services.sale_create(terminal=client.terminal, request=sale_request, render=purchase_body)
        return _json(sale.response_body, sale.status_code)


def _sale(client: ApiClient, purchase_id: uuid.UUID) -> AgentSale | None:
    return (
        AgentSale.objects.select_related("purchase__meter")
        .filter(agent_id=client.agent_id, client_id=purchase_id)
        .first()
    )


def _current_body(sale: AgentSale) -> dict[str, Any]:
    tokens = list(Token.objects.filter(purchase_id=sale.purchase_id))
    voided = frozenset(TokenVoid.objects.filter(token__in=tokens).values_list("token_id", flat=True))
    return purchase_body(sale, tokens, voided=voided)


_NOT_FOUND = {404: _error(404, "NOT_FOUND: no purchase with this id for this agent")}


class PurchaseDetailView(ApiView):
    required_scope = ApiScope.REPRINT

    @extend_schema(
        operation_id="purchase_read",
        summary="A purchase now: status and tokens (this agent's only)",
        responses={200: s.PurchaseResponse, **_NOT_FOUND},
    )
    def get(self, request: Request, purchase_id: uuid.UUID) -> Response:
        sale = _sale(self.client(), purchase_id)
        if sale is None:
            return error_response("NOT_FOUND", "No purchase with this id for this agent.", "id")
        return Response(_current_body(sale))


class ConfirmationView(ApiView):
    @extend_schema(
        operation_id="purchase_confirm",
        summary="The agent handed the token over (idempotent)",
        request=None,
        responses={200: s.PurchaseResponse, **_NOT_FOUND, 409: _error(409, "ALREADY_REVERSED, NOT_COMPLETED")},
    )
    def post(self, request: Request, purchase_id: uuid.UUID) -> Response:
        sale = agent_services.sale_confirm(terminal=self.client().terminal, client_id=purchase_id)
        return Response(_current_body(_sale(self.client(), sale.client_id) or sale))


class ReversalView(ApiView):
    required_scope = ApiScope.REVERSE

    @extend_schema(
        operation_id="purchase_reverse",
        summary="Void the token and refund the float: before confirmation, within the window (idempotent)",
        request=s.ReversalRequest,
        responses={
            200: s.PurchaseResponse,
            **_NOT_FOUND,
            409: _error(409, "ALREADY_CONFIRMED, REVERSAL_WINDOW_CLOSED, REVERSAL_NOT_ALLOWED"),
        },
    )
    def post(self, request: Request, purchase_id: uuid.UUID) -> Response:
        data = _valid(s.ReversalRequest, request.data or {})
        sale = agent_services.sale_reverse(
            terminal=self.client().terminal, client_id=purchase_id, reason=data.get("reason", "")
        )
        return Response(_current_body(_sale(self.client(), sale.client_id) or sale))


class FaultsView(ApiView):
    @extend_schema(
        operation_id="fault_report",
        summary="A customer-reported fault for the staff queue",
        request=s.FaultRequest,
        responses={201: s.FaultResponse},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.FaultRequest, request.data)
        fault = agent_services.fault_report(
            terminal=self.client().terminal,
            meter_number=data["meter"],
            kind=data["kind"],
            meter_message=data.get("meter_message", ""),
            description=data.get("description", ""),
            client_id=data.get("purchase_id"),
        )
        return Response({"reference": str(fault.reference), "status": fault.status}, status=201)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class StatementView(ApiView):
    required_scope = ApiScope.STATEMENT

    @extend_schema(
        operation_id="statement_read",
        summary="Float movements, sales and commission of the calling agent",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 1st of month)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)"),
        ],
        responses={200: s.StatementResponse},
    )
    def get(self, request: Request) -> Response:
        query = _valid(s.StatementQuery, request.query_params)
        today = timezone.localdate()
        first, last = query.get("from") or today.replace(day=1), query.get("to") or today
        if last < first:
            return error_response("VALIDATION_ERROR", "'to' is before 'from'.", "to")
        if (last - first).days > 366:
            return error_response("VALIDATION_ERROR", "A statement covers at most a year.", "to")
        client = self.client()
        agent = client.terminal.agent
        statement = float_statement(
            agent_id=agent.pk, start=_day_start(first), end=_day_start(last + timedelta(days=1))
        )
        return Response(
            {
                "agent": agent.name,
                "currency": agent.currency,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "opening_balance": money(statement.opening_balance),
                "closing_balance": money(statement.closing_balance),
                "balance": money(balance_locked(agent_id=agent.pk)),
                "credit_limit": money(agent.credit_limit),
                "sales_count": statement.sales_count,
                "sales_amount": money(statement.sales_amount),
                "reversals_count": statement.reversals_count,
                "commission": money(statement.commission),
                "entries": [
                    {
                        "at": e.created_at.isoformat(),
                        "kind": e.kind,
                        "amount": money(e.amount),
                        "balance_after": money(e.balance_after),
                        "reference": e.reference,
                        "purchase_id": str(e.sale.client_id) if e.sale else None,
                    }
                    for e in statement.entries
                ],
            }
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document: public, so integrators can read it before they have a key."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []


class DocsView(SpectacularSwaggerView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []
