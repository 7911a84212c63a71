"""Key changes: one meter at once or pre-coded, the 1993 → 2014 roll-over, and resumable campaigns."""

import pytest

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.services import campaigns as campaigns_module
from backoffice.services.campaigns import campaign_process_chunk, campaign_progress, campaign_start
from backoffice.services.key_changes import AlreadyAtTarget, KeyChangeTarget, meter_key_change
from tests.factories import make_customer, make_meter, make_supply_group
from vending.exceptions import PermissionDenied
from vending.models import AuditEvent, CustomerMeter, Meter, SmsMessage, Token
from vending.services.virtual_meters import meter_config
from vending.sts import VirtualMeter, credit_token, next_tid

pytestmark = pytest.mark.django_db


def _rollover_setup(dkga="02", ea="07"):
    old_group = make_supply_group(dkga=dkga, ea=ea, base_date=1993, key_revision=1)
    new_group = make_supply_group(old_group.utility, dkga=dkga, ea=ea, base_date=2014, sgc=old_group.sgc,
                                  key_revision=2)
    return old_group, new_group


@pytest.mark.parametrize(("dkga", "ea", "sections"), [("02", "07", 2), ("04", "11", 4)])
def test_key_change_at_once_moves_a_1993_meter_to_2014_and_the_meter_accepts_it(custodian, now, dkga, ea, sections):
    old_group, new_group = _rollover_setup(dkga, ea)
    meter = make_meter(supply_group=old_group, base_date=1993, last_tid=16_000_000)
    physical = VirtualMeter(meter_config(meter=meter))
    customer = make_customer()
    CustomerMeter.objects.create(customer=customer, meter=meter)

    result = meter_key_change(actor=custodian, meter=meter, target=KeyChangeTarget(supply_group=new_group),
                              mode="now", delivery="sms", reason="TID roll-over 2024", now=now)

    assert [t.subclass for t in result.tokens] == [3, 4, 8, 9][:sections]
    for token in result.tokens:
        assert physical.enter(token.digits).accepted
    meter.refresh_from_db()
    assert (meter.supply_group, meter.key_revision, meter.base_date, meter.last_tid) == (new_group, 2, 2014, None)
    # The next credit token, made under the new key and base date, is accepted by the changed meter.
    new_config = meter_config(meter=meter)
    credit = credit_token(new_config, units=100, tid=next_tid(now, 2014, meter.last_tid))
    assert physical.enter(credit.digits).units_added == 100
    assert SmsMessage.objects.filter(phone=customer.phone).count() == sections // 2
    event = AuditEvent.objects.get(action="meter.key_changed")
    assert event.before["base_date"] == 1993 and event.after["base_date"] == 2014 and event.after["rollover"]


def test_precoded_key_change_sets_the_pending_fields_only(custodian, now):
    old_group, new_group = _rollover_setup()
    meter = make_meter(supply_group=old_group, base_date=1993)
    result = meter_key_change(actor=custodian, meter=meter, target=KeyChangeTarget(supply_group=new_group,
                              tariff_index=7), mode="precode", delivery="sms", reason="roll-over", now=now)
    assert result.tokens == []
    meter.refresh_from_db()
    assert meter.supply_group == old_group
    assert (meter.pending_supply_group, meter.pending_tariff_index, meter.pending_key_revision,
            meter.pending_base_date) == (new_group, 7, 2, 2014)
    assert AuditEvent.objects.filter(action="meter.key_change_precoded", actor=custodian).exists()


def test_a_meter_already_at_the_target_is_refused(custodian):
    group = make_supply_group()
    meter = make_meter(supply_group=group)
    with pytest.raises(AlreadyAtTarget):
        meter_key_change(actor=custodian, meter=meter, target=KeyChangeTarget(supply_group=group), mode="now",
                         delivery="show", reason="test")


def test_support_and_operators_cannot_change_keys(support, operator):
    _, new_group = _rollover_setup()
    meter = make_meter()
    for user in (support, operator):
        with pytest.raises(PermissionDenied):
            meter_key_change(actor=user, meter=meter, target=KeyChangeTarget(supply_group=new_group), mode="now",
                             delivery="show", reason="test")
        with pytest.raises(PermissionDenied):
            campaign_start(actor=user, meter_ids=[meter.pk], name="x", reason="test", mode="now", delivery="none",
                           target=KeyChangeTarget(supply_group=new_group))


def _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks, mode="now"):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        campaign = campaign_start(actor=custodian, meter_ids=[m.pk for m in meters], name="roll-over", mode=mode,
                                  delivery="none", reason="TID roll-over",
                                  target=KeyChangeTarget(supply_group=new_group))
    assert len(callbacks) == 1  # the first chunk is enqueued once the campaign is committed
    return campaign


def test_campaign_runs_in_chunks_with_progress_and_changes_each_meter_once(custodian, now,
                                                                           django_capture_on_commit_callbacks):
    old_group, new_group = _rollover_setup()
    meters = [make_meter(supply_group=old_group, base_date=1993) for _ in range(5)]
    campaign = _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks)

    assert campaign_process_chunk(campaign_id=campaign.pk, limit=2, now=now) == 2
    progress = campaign_progress(campaign)
    assert (progress["done"], progress["pending"], progress["percent"]) == (2, 3, 40)
    assert campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now) == 3
    assert campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now) == 0  # nothing left: a no-op

    campaign.refresh_from_db()
    assert campaign.status == KeyChangeCampaign.Status.DONE and campaign.finished_at == now
    for meter in meters:
        assert Token.objects.filter(meter=meter, kind=Token.Kind.KEY_CHANGE).count() == 2
        assert Meter.objects.get(pk=meter.pk).base_date == 2014
    assert AuditEvent.objects.filter(action="meter.key_changed", data__campaign=campaign.pk).count() == 5


def test_a_crashed_chunk_rolls_back_and_the_resumed_campaign_changes_each_meter_exactly_once(
        custodian, now, django_capture_on_commit_callbacks, monkeypatch):
    old_group, new_group = _rollover_setup()
    meters = [make_meter(supply_group=old_group, base_date=1993) for _ in range(4)]
    campaign = _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks)
    real_plan = campaigns_module.plan_key_change
    calls = {"n": 0}

    def crash_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_plan(**kwargs)

    monkeypatch.setattr(campaigns_module, "plan_key_change", crash_on_third)
    with pytest.raises(RuntimeError):
        campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now)
    assert not Token.objects.filter(kind=Token.Kind.KEY_CHANGE).exists()
    assert campaign.items.filter(status=KeyChangeItem.Status.PENDING).count() == 4

    monkeypatch.setattr(campaigns_module, "plan_key_change", real_plan)
    assert campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now) == 4
    assert Token.objects.filter(kind=Token.Kind.KEY_CHANGE).count() == 8
    assert set(campaign.items.values_list("status", flat=True)) == {KeyChangeItem.Status.DONE}


def test_campaign_skips_meters_already_changed_and_reports_failures(custodian, now,
                                                                   django_capture_on_commit_callbacks):
    old_group, new_group = _rollover_setup()
    keyless = make_supply_group(old_group.utility, base_date=1993)
    keyless.vending_key_encrypted = None
    keyless.save()
    already = make_meter(supply_group=new_group)
    broken = make_meter(supply_group=keyless, base_date=1993)
    fine = make_meter(supply_group=old_group, base_date=1993)
    campaign = _campaign(custodian, [already, broken, fine], new_group, django_capture_on_commit_callbacks)
    campaign_process_chunk(campaign_id=campaign.pk, now=now)
    statuses = dict(campaign.items.values_list("meter_id", "status"))
    assert statuses == {already.pk: "skipped", broken.pk: "failed", fine.pk: "done"}
    campaign.refresh_from_db()
    assert campaign.status == KeyChangeCampaign.Status.FAILED
    assert "vending key" in campaign.items.get(meter=broken).error


def test_precoded_campaign_leaves_the_tokens_to_the_next_vend(custodian, now, django_capture_on_commit_callbacks):
    old_group, new_group = _rollover_setup()
    meter = make_meter(supply_group=old_group, base_date=1993)
    campaign = _campaign(custodian, [meter], new_group, django_capture_on_commit_callbacks, mode="precode")
    campaign_process_chunk(campaign_id=campaign.pk, now=now)
    meter.refresh_from_db()
    assert meter.has_pending_key_change and meter.pending_base_date == 2014
    assert not Token.objects.filter(meter=meter).exists()


def test_a_meter_appears_once_per_campaign(custodian, django_capture_on_commit_callbacks):
    _, new_group = _rollover_setup()
    meter = make_meter()
    campaign = _campaign(custodian, [meter, meter], new_group, django_capture_on_commit_callbacks)
    assert campaign.items.count() == 1 and campaign.total == 1
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        KeyChangeItem.objects.create(campaign=campaign, meter=meter)
