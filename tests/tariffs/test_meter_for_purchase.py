"""vending.selectors.meters.meter_for_purchase: the lean meter read of the USSD confirm hop."""

import pytest

from tests.factories import make_meter
from vending.models import Meter
from vending.selectors.meters import meter_for_purchase

pytestmark = pytest.mark.django_db


def test_loads_what_a_purchase_reads_and_the_rest_on_use(django_assert_num_queries):
    meter = make_meter()
    with django_assert_num_queries(1):
        found = meter_for_purchase(drn=meter.drn)
        assert (found.pk, found.drn, found.status, found.label_name) == (
            meter.pk,
            meter.drn,
            Meter.Status.ACTIVE,
            meter.label_name,
        )
        assert (found.tariff.pk, found.tariff.currency) == (meter.tariff.pk, meter.tariff.currency)
    with django_assert_num_queries(1):  # a deferred field: read when first used
        assert found.pan == meter.pan


def test_unknown_meter_is_none():
    assert meter_for_purchase(drn="01234567890") is None
