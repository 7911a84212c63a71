"""The key-change guard (issue 17): unsafe targets are refused for one meter, the admin's batch action and
a campaign, pre-coded or at once; a meter that cannot vend is refused before any payment is asked for."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.models import KeyChangeCampaign
from backoffice.services.campaigns import campaign_start
from backoffice.services.key_changes import (
    AlreadyAtTarget,
    KeyChangeTarget,
    key_change_target_choices,
    meter_key_change,
)
from backoffice.services.key_guard import UnsafeKeyChange, trial_vend
from tests.backoffice.conftest import PASSWORD
from tests.factories import make_flat_tariff, make_meter, make_supply_group, make_utility
from vending.exceptions import MeterNotVendable
from vending.models import AuditEvent, Meter, Payment, Purchase
from vending.selectors import vendability
from vending.selectors.vendability import meter_vendability
from vending.services.keys import parse_vending_key_hex, supply_group_set_vending_key
from vending.services.purchases import purchase_create
from vending.services.virtual_meters import meter_config
from vending.sts.weakkeys import SEMI_WEAK_KEYS_HEX, WEAK_KEYS_HEX, is_weak_des_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now(january_2026):
    """Issue 17's meter on base 2014, with 2014 as the safe target, is the subject of these tests: the
    wall clock stays in January 2026 at any date the suite runs at."""
    return january_2026


MODES = pytest.mark.parametrize("mode", ["now", "precode"])


def _meter_and_targets():
    """A 2014 meter, and the targets issue 17 tried: its utility's 1993 group, another utility's group."""
    utility = make_utility()
    home = make_supply_group(utility, base_date=2014, key_revision=2)
    legacy_1993 = make_supply_group(utility, base_date=1993, sgc=home.sgc, key_revision=1)
    fresh = make_supply_group(utility, base_date=2014, sgc=home.sgc, key_revision=3)
    other = make_supply_group(make_utility(), base_date=2014)
    meter = make_meter(supply_group=home, tariff=make_flat_tariff(utility))
    return meter, {"home": home, "1993": legacy_1993, "fresh": fresh, "other": other}


def _weak_group(utility, sgc):
    group = make_supply_group(utility, base_date=2014, sgc=sgc, key_revision=5)
    group.set_vending_key(bytes.fromhex("FFFFFFFFFFFFFFFF"))  # past the service's check, as an old row might be
    group.save()
    return group


def _unchanged(meter):
    fresh = Meter.objects.get(pk=meter.pk)
    return (fresh.supply_group_id, fresh.key_revision, fresh.base_date, fresh.has_pending_key_change) == (
        meter.supply_group_id,
        meter.key_revision,
        meter.base_date,
        False,
    )


@MODES
def test_one_meter_key_change_to_an_exhausted_1993_base_date_is_refused(custodian, now, mode):
    meter, groups = _meter_and_targets()
    with pytest.raises(UnsafeKeyChange, match="base date 1993 runs out of token IDs on 2024-11-24 20:15"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["1993"]),
            mode=mode,
            delivery="show",
            reason="issue 17 step 1",
            now=now,
        )
    assert _unchanged(meter) and not AuditEvent.objects.filter(action__startswith="meter.key_change").exists()


@MODES
def test_one_meter_key_change_to_a_base_date_override_of_1993_is_refused(custodian, now, mode):
    meter, groups = _meter_and_targets()
    with pytest.raises(UnsafeKeyChange, match="base date 1993"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["fresh"], base_date=1993),
            mode=mode,
            delivery="show",
            reason="issue 17",
            now=now,
        )
    assert _unchanged(meter)


@MODES
def test_one_meter_key_change_to_another_utilitys_group_is_refused(custodian, now, mode):
    meter, groups = _meter_and_targets()
    with pytest.raises(UnsafeKeyChange, match="belongs to another utility"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["other"]),
            mode=mode,
            delivery="show",
            reason="wrong list",
            now=now,
        )
    assert _unchanged(meter)


def test_a_group_of_the_same_utility_in_another_currency_is_refused(custodian, now):
    meter, groups = _meter_and_targets()
    usd_tariff = make_flat_tariff(meter.tariff.utility, currency="USD")
    Meter.objects.filter(pk=meter.pk).update(tariff=usd_tariff)
    meter.refresh_from_db()
    with pytest.raises(UnsafeKeyChange, match="sells in KES"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["fresh"]),
            mode="now",
            delivery="show",
            reason="currency",
            now=now,
        )


@MODES
def test_one_meter_key_change_to_the_same_key_is_refused(custodian, now, mode):
    meter, groups = _meter_and_targets()
    with pytest.raises(AlreadyAtTarget):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["home"]),
            mode=mode,
            delivery="show",
            reason="same",
            now=now,
        )
    # the same vending key under another revision is no key change either
    supply_group_set_vending_key(supply_group=groups["fresh"], key=groups["home"].vending_key())
    with pytest.raises(UnsafeKeyChange, match="same as the present one"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=groups["fresh"]),
            mode=mode,
            delivery="show",
            reason="same key",
            now=now,
        )
    assert _unchanged(meter)


@MODES
def test_one_meter_key_change_to_a_weak_vending_key_is_refused(custodian, now, mode):
    meter, groups = _meter_and_targets()
    weak = _weak_group(meter.tariff.utility, groups["home"].sgc)
    with pytest.raises(UnsafeKeyChange, match="weak or semi-weak"):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=weak),
            mode=mode,
            delivery="show",
            reason="weak",
            now=now,
        )
    assert _unchanged(meter)


def test_a_safe_precoded_change_passes_its_trial_vend_and_the_meter_stays_vendable(custodian, now):
    meter, groups = _meter_and_targets()
    meter_key_change(
        actor=custodian,
        meter=meter,
        target=KeyChangeTarget(supply_group=groups["fresh"]),
        mode="precode",
        delivery="show",
        reason="planned rotation",
        now=now,
    )
    meter.refresh_from_db()
    assert meter.pending_supply_group == groups["fresh"] and meter_vendability(meter=meter, now=now).ok


def test_the_trial_vend_refuses_a_change_that_leaves_the_decoder_key_as_it_was(now):
    meter, _ = _meter_and_targets()
    config = meter_config(meter=meter)
    assert trial_vend(current=config, new=config, now=now) == "the meter's decoder key would not change"
    assert trial_vend(current=config, new=config.replace(krn=4), now=now) is None


def test_des_weak_keys_are_the_four_weak_and_twelve_semi_weak_parity_aside():
    assert len(WEAK_KEYS_HEX) == 4 and len(SEMI_WEAK_KEYS_HEX) == 12
    for key in (*WEAK_KEYS_HEX, *SEMI_WEAK_KEYS_HEX, "FFFFFFFFFFFFFFFF", "0000000000000000", "E1E1E1E1F0F0F0F0"):
        assert is_weak_des_key(bytes.fromhex(key)), key
    assert not is_weak_des_key(bytes.fromhex("0123456789abcdef"))
    with pytest.raises(ValueError, match="weak"):
        parse_vending_key_hex(key_hex="FFFFFFFFFFFFFFFF", dkga="02")
    with pytest.raises(ValueError, match="all its bytes"):
        parse_vending_key_hex(key_hex="00" * 20, dkga="04")


# --- the admin: one meter and the batch action ---------------------------------------------------------------


def _post_key_change(client, custodian, meters, group, mode="now"):
    client.login(username=custodian.username, password=PASSWORD)
    return client.post(
        reverse("admin:vending_meter_changelist"),
        {
            "action": "key_change",
            "_selected_action": [m.pk for m in meters],
            "apply": "1",
            "supply_group": group.pk,
            "tariff_index": "",
            "base_date": "",
            "mode": mode,
            "delivery": "show",
            "name": "",
            "reason": "issue 17 in the admin",
        },
        follow=True,
    )


def test_the_admin_offers_only_safe_targets_of_the_meters_utility(now):
    meter, groups = _meter_and_targets()
    offered = set(key_change_target_choices(meters=Meter.objects.filter(pk=meter.pk), now=now))
    assert groups["fresh"] in offered and groups["home"] in offered
    assert groups["1993"] not in offered and groups["other"] not in offered


@pytest.mark.parametrize("target", ["1993", "other"])
@MODES
def test_the_admin_refuses_an_unsafe_target_for_one_meter_and_for_a_batch(client, custodian, target, mode):
    meter, groups = _meter_and_targets()
    second = make_meter(supply_group=groups["home"], tariff=meter.tariff)
    for chosen in ([meter], [meter, second]):
        response = _post_key_change(client, custodian, chosen, groups[target], mode)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert all(_unchanged(m) for m in chosen)
    assert not KeyChangeCampaign.objects.exists()


@MODES
def test_the_admin_shows_the_guards_reason_for_a_weak_key_target(client, custodian, mode):
    meter, groups = _meter_and_targets()
    weak = _weak_group(meter.tariff.utility, groups["home"].sgc)
    second = make_meter(supply_group=groups["home"], tariff=meter.tariff)
    for chosen in ([meter], [meter, second]):
        page = _post_key_change(client, custodian, chosen, weak, mode).content.decode()
        assert "Key change refused" in page and "weak or semi-weak" in page
        assert all(_unchanged(m) for m in chosen)
    assert not KeyChangeCampaign.objects.exists()


# --- campaigns -------------------------------------------------------------------------------------------------


def _start(custodian, meters, target, mode):
    return campaign_start(
        actor=custodian,
        meter_ids=[m.pk for m in meters],
        name="c",
        reason="rotation",
        mode=mode,
        delivery="none",
        target=target,
    )


@MODES
def test_a_campaign_to_an_exhausted_base_date_or_another_utility_or_a_weak_key_is_refused(custodian, mode):
    meter, groups = _meter_and_targets()
    meters = [meter, make_meter(supply_group=groups["home"], tariff=meter.tariff)]
    weak = _weak_group(meter.tariff.utility, groups["home"].sgc)
    for target, reason in [
        (KeyChangeTarget(supply_group=groups["1993"]), "base date 1993"),
        (KeyChangeTarget(supply_group=groups["fresh"], base_date=1993), "base date 1993"),
        (KeyChangeTarget(supply_group=groups["other"]), "another utility"),
        (KeyChangeTarget(supply_group=weak), "weak or semi-weak"),
    ]:
        with pytest.raises(UnsafeKeyChange, match=reason):
            _start(custodian, meters, target, mode)
    supply_group_set_vending_key(supply_group=groups["fresh"], key=groups["home"].vending_key())
    with pytest.raises(UnsafeKeyChange, match="same as the present one"):
        _start(custodian, meters, KeyChangeTarget(supply_group=groups["fresh"]), mode)
    assert not KeyChangeCampaign.objects.exists() and all(_unchanged(m) for m in meters)


def test_a_campaign_chunk_fails_its_meters_when_the_target_ran_out_since_it_started(
    custodian, now, django_capture_on_commit_callbacks
):
    from backoffice.services.campaign_chunks import campaign_process_chunk

    meter, groups = _meter_and_targets()
    with django_capture_on_commit_callbacks(execute=False):
        campaign = _start(custodian, [meter], KeyChangeTarget(supply_group=groups["fresh"]), "precode")
    campaign_process_chunk(campaign_id=campaign.pk, now=now.replace(year=2045, month=6))  # < 5 years left
    item = campaign.items.get()
    assert item.status == "failed" and "runs out of token IDs on 2045-11-24" in item.error
    assert _unchanged(meter)


# --- purchases on a meter that cannot vend -------------------------------------------------------------------------


def test_meter_vendability_reasons(now):
    meter, groups = _meter_and_targets()
    assert meter_vendability(meter=meter, now=now).ok
    Meter.objects.filter(pk=meter.pk).update(supply_group=groups["1993"], base_date=1993)
    assert meter_vendability(meter=meter, now=now).code == vendability.BASE_DATE_EXHAUSTED
    # the demo's legacy meters: on 1993 with the rollover to 2014 pending, so the next vend carries it
    Meter.objects.filter(pk=meter.pk).update(
        pending_supply_group=groups["fresh"], pending_key_revision=3, pending_base_date=2014
    )
    assert meter_vendability(meter=meter, now=now).ok
    Meter.objects.filter(pk=meter.pk).update(pending_supply_group=groups["other"])
    assert meter_vendability(meter=meter, now=now).code == vendability.OTHER_UTILITY
    Meter.objects.filter(pk=meter.pk).update(
        pending_supply_group=None,
        pending_key_revision=None,
        pending_base_date=None,
        supply_group=groups["home"],
        base_date=2014,
        status=Meter.Status.BLOCKED,
    )
    assert meter_vendability(meter=meter, now=now).code == vendability.BLOCKED


def test_a_purchase_for_a_meter_that_cannot_vend_is_refused_before_any_payment(now, django_capture_on_commit_callbacks):
    meter, groups = _meter_and_targets()
    Meter.objects.filter(pk=meter.pk).update(supply_group=groups["1993"], base_date=1993)
    with django_capture_on_commit_callbacks() as pushes, pytest.raises(MeterNotVendable, match="base date 1993"):
        purchase_create(
            channel="sms",
            meter=meter,
            payer_phone="+254711000111",
            wallet="mpesa",
            amount=Decimal("50"),
            idempotency_key="k17",
            now=now,
        )
    assert not pushes and not Purchase.objects.exists() and not Payment.objects.exists()
