"""koronto's data model, split by sub-domain; import models from here."""

from vending.models.audit import AuditEvent
from vending.models.customers import Customer, CustomerMeter
from vending.models.meters import Meter, MeterDebt
from vending.models.network import SupplyGroup, Tariff, TariffBlock, Utility
from vending.models.purchases import Payment, ProviderCallback, Purchase
from vending.models.refunds import Refund
from vending.models.sms import SmsMessage
from vending.models.tokens import Token
from vending.models.virtual_meters import VirtualMeterState

__all__ = [
    "AuditEvent",
    "Customer",
    "CustomerMeter",
    "Meter",
    "MeterDebt",
    "Payment",
    "ProviderCallback",
    "Purchase",
    "Refund",
    "SmsMessage",
    "SupplyGroup",
    "Tariff",
    "TariffBlock",
    "Token",
    "Utility",
    "VirtualMeterState",
]
