"""An in-memory Reader for driving the pure machine without a database."""

from dataclasses import dataclass, field

from ussd.conversation import MeterInfo, PurchaseInfo, QuoteInfo, SavedMeter, TokenInfo


@dataclass
class FakeReader:
    saved: list[SavedMeter] = field(default_factory=list)
    meters: dict[str, MeterInfo] = field(default_factory=dict)
    wallet_ids: list[str] = field(default_factory=lambda: ["mpesa"])
    tokens: list[TokenInfo] = field(default_factory=list)
    purchases: list[PurchaseInfo] = field(default_factory=list)
    quote_value: QuoteInfo | None = None

    def saved_meters(self):
        return self.saved

    def find_meter(self, drn):
        return self.meters.get(drn)

    def quote(self, drn, amount):
        if self.quote_value is not None:
            return self.quote_value
        meter = self.meters[drn]
        return QuoteInfo(
            amount=amount, currency=meter.currency, kwh="12.3", vat="1.00", fixed_charge="0.00", debt_recovery="0.00"
        )

    def wallets(self, currency):
        return self.wallet_ids

    def last_tokens(self, drn):
        return self.tokens

    def recent_purchases(self):
        return self.purchases
