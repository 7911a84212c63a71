"""koronto's data model, split by sub-domain; import models from here."""

from vending.models.agents import (
    Agent,
    AgentSale,
    AgentTerminal,
    ApiKey,
    CommissionRule,
    FaultReport,
    FloatEntry,
    RevenueFinding,
    TokenVoid,
)
from vending.models.audit import AuditEvent
from vending.models.customers import Customer, CustomerMeter
from vending.models.heartbeat import WorkerHeartbeat
from vending.models.meters import Meter, MeterDebt
from vending.models.network import SupplyGroup, Tariff, TariffBlock, Utility
from vending.models.purchases import Payment, ProviderCallback, Purchase
from vending.models.refunds import Refund
from vending.models.sms import SmsAttempt, SmsMessage
from vending.models.tokens import Token
from vending.models.virtual_meters import VirtualMeterState

__all__ = [
    "Agent",
    "AgentSale",
    "AgentTerminal",
    "ApiKey",
    "AuditEvent",
    "CommissionRule",
    "Customer",
    "CustomerMeter",
    "FaultReport",
    "FloatEntry",
    "Meter",
    "MeterDebt",
    "Payment",
    "ProviderCallback",
    "Purchase",
    "Refund",
    "RevenueFinding",
    "SmsAttempt",
    "SmsMessage",
    "SupplyGroup",
    "Tariff",
    "TariffBlock",
    "Token",
    "TokenVoid",
    "Utility",
    "VirtualMeterState",
    "WorkerHeartbeat",
]
