"""Key changes: one meter at once or pre-coded, the 1993 → 2014 roll-over, and resumable campaigns."""

import pytest

from backoffice.models import KeyChangeCampaign, KeyChangeItem
from backoffice.services import campaign_chunks as chunks_module
from backoffice.services import campaigns as campaigns_module
from backoffice.services.campaign_chunks import campaign_process_chunk, campaign_progress
from backoffice.services.campaigns import campaign_start
from backoffice.services.key_changes import AlreadyAtTarget, KeyChangeTarget, meter_key_change
from tests.factories import make_customer, make_meter, make_supply_group
from vending.exceptions import PermissionDenied
from vending.models import AuditEvent, CustomerMeter, Meter, SmsMessage, Token
from vending.services.virtual_meters import meter_config
from vending.sts import VirtualMeter, credit_token, next_tid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now(january_2026):
    """The 1993 → 2014 roll-over is the subject of these tests: the wall clock stays in January 2026
    at any date the suite runs at."""
    return january_2026


def _rollover_setup(dkga="02", ea="07"):
    old_group = make_supply_group(dkga=dkga, ea=ea, base_date=1993, key_revision=1)
    new_group = make_supply_group(
        old_group.utility, dkga=dkga, ea=ea, base_date=2014, sgc=old_group.sgc, key_revision=2
    )
    return old_group, new_group


@pytest.mark.parametrize(("dkga", "ea", "sections"), [("02", "07", 2), ("04", "11", 4)])
def test_key_change_at_once_moves_a_1993_meter_to_2014_and_the_meter_accepts_it(custodian, now, dkga, ea, sections):
    old_group, new_group = _rollover_setup(dkga, ea)
    meter = make_meter(supply_group=old_group, base_date=1993, last_tid=16_000_000)
    physical = VirtualMeter(meter_config(meter=meter))
    customer = make_customer()
    CustomerMeter.objects.create(customer=customer, meter=meter)

    result = meter_key_change(
        actor=custodian,
        meter=meter,
        target=KeyChangeTarget(supply_group=new_group),
        mode="now",
        delivery="sms",
        reason="TID roll-over 2024",
        now=now,
    )

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
    result = meter_key_change(
        actor=custodian,
        meter=meter,
        target=KeyChangeTarget(supply_group=new_group, tariff_index=7),
        mode="precode",
        delivery="sms",
        reason="roll-over",
        now=now,
    )
    assert result.tokens == []
    meter.refresh_from_db()
    assert meter.supply_group == old_group
    assert (
        meter.pending_supply_group,
        meter.pending_tariff_index,
        meter.pending_key_revision,
        meter.pending_base_date,
    ) == (new_group, 7, 2, 2014)
    assert AuditEvent.objects.filter(action="meter.key_change_precoded", actor=custodian).exists()


def test_a_meter_already_at_the_target_is_refused(custodian):
    group = make_supply_group()
    meter = make_meter(supply_group=group)
    with pytest.raises(AlreadyAtTarget):
        meter_key_change(
            actor=custodian,
            meter=meter,
            target=KeyChangeTarget(supply_group=group),
            mode="now",
            delivery="show",
            reason="test",
        )


def test_support_and_operators_cannot_change_keys(support, operator):
    _, new_group = _rollover_setup()
    meter = make_meter()
    for user in (support, operator):
        with pytest.raises(PermissionDenied):
            meter_key_change(
                actor=user,
                meter=meter,
                target=KeyChangeTarget(supply_group=new_group),
                mode="now",
                delivery="show",
                reason="test",
            )
        with pytest.raises(PermissionDenied):
            campaign_start(
                actor=user,
                meter_ids=[meter.pk],
                name="x",
                reason="test",
                mode="now",
                delivery="none",
                target=KeyChangeTarget(supply_group=new_group),
            )


def _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks, mode="now"):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        campaign = campaign_start(
            actor=custodian,
            meter_ids=[m.pk for m in meters],
            name="roll-over",
            mode=mode,
            delivery="none",
            reason="TID roll-over",
            target=KeyChangeTarget(supply_group=new_group),
        )
    assert len(callbacks) == 1  # the first chunk is enqueued once the campaign is committed
    return campaign


def test_campaign_runs_in_chunks_with_progress_and_changes_each_meter_once(
    custodian, now, django_capture_on_commit_callbacks
):
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
    chunks = AuditEvent.objects.filter(action="key_change_campaign.chunk_applied", object_id=str(campaign.pk))
    assert [e.data["changed"] for e in chunks] == [2, 3]
    assert sorted(i for e in chunks for c in e.after["configs"] for i in c["meter_ids"]) == sorted(m.pk for m in meters)


def test_a_crashed_chunk_rolls_back_and_the_resumed_campaign_changes_each_meter_exactly_once(
    custodian, now, django_capture_on_commit_callbacks, monkeypatch
):
    old_group, new_group = _rollover_setup()
    meters = [make_meter(supply_group=old_group, base_date=1993) for _ in range(4)]
    campaign = _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks)
    real_audit = chunks_module.audit_record

    def crash_after_the_writes(**kwargs):
        # The meters, tokens and items are written by now: the worker dies before the commit.
        if kwargs["action"] == "key_change_campaign.chunk_applied":
            raise RuntimeError("worker killed")
        return real_audit(**kwargs)

    monkeypatch.setattr(chunks_module, "audit_record", crash_after_the_writes)
    with pytest.raises(RuntimeError):
        campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now)
    assert not Token.objects.filter(kind=Token.Kind.KEY_CHANGE).exists()
    assert campaign.items.filter(status=KeyChangeItem.Status.PENDING).count() == 4
    assert set(Meter.objects.filter(pk__in=[m.pk for m in meters]).values_list("base_date", flat=True)) == {1993}

    monkeypatch.setattr(chunks_module, "audit_record", real_audit)
    assert campaign_process_chunk(campaign_id=campaign.pk, limit=10, now=now) == 4
    assert Token.objects.filter(kind=Token.Kind.KEY_CHANGE).count() == 8
    assert set(campaign.items.values_list("status", flat=True)) == {KeyChangeItem.Status.DONE}


def test_campaign_skips_meters_already_changed_and_reports_failures(custodian, now, django_capture_on_commit_callbacks):
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
    meter = make_meter(supply_group=make_supply_group(new_group.utility))  # same utility: a safe target
    campaign = _campaign(custodian, [meter, meter], new_group, django_capture_on_commit_callbacks)
    assert campaign.items.count() == 1 and campaign.total == 1
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        KeyChangeItem.objects.create(campaign=campaign, meter=meter)


@pytest.mark.parametrize(("dkga", "ea"), [("02", "07"), ("04", "11")])
def test_campaign_tokens_are_accepted_by_the_meter_and_the_next_vend_fits_the_new_key(
    custodian, now, django_capture_on_commit_callbacks, dkga, ea
):
    old_group, new_group = _rollover_setup(dkga, ea)
    meters = [make_meter(supply_group=old_group, base_date=1993, last_tid=16_000_000, tariff_index=3) for _ in range(3)]
    physical = {m.pk: VirtualMeter(meter_config(meter=m)) for m in meters}
    campaign = _campaign(custodian, meters, new_group, django_capture_on_commit_callbacks)
    campaign_process_chunk(campaign_id=campaign.pk, now=now)

    for meter in meters:
        tokens = Token.objects.filter(meter=meter, kind=Token.Kind.KEY_CHANGE).order_by("sequence")
        assert [t.subclass for t in tokens] == [3, 4, 8, 9][: len(tokens)]
        assert all(t.issued_by == custodian and t.reason == "TID roll-over" for t in tokens)
        for token in tokens:
            assert physical[meter.pk].enter(token.digits).accepted
        meter.refresh_from_db()
        # What the pipeline would have set applying the same change (vending.services.tokens._issue_locked).
        assert (meter.supply_group, meter.key_revision, meter.tariff_index, meter.base_date, meter.last_tid) == (
            new_group,
            2,
            3,
            2014,
            None,
        )
        assert not meter.has_pending_key_change
        credit = credit_token(meter_config(meter=meter), units=50, tid=next_tid(now, 2014, meter.last_tid))
        assert physical[meter.pk].enter(credit.digits).units_added == 50


def test_a_precoded_campaign_sets_what_the_pipeline_applies_at_the_next_vend(
    custodian, now, django_capture_on_commit_callbacks
):
    old_group, new_group = _rollover_setup()
    meter = make_meter(supply_group=old_group, base_date=1993, tariff_index=4)
    with django_capture_on_commit_callbacks(execute=False):
        campaign = campaign_start(
            actor=custodian,
            meter_ids=[meter.pk],
            name="pre",
            reason="roll-over",
            mode="precode",
            delivery="none",
            target=KeyChangeTarget(supply_group=new_group, tariff_index=9),
        )
    campaign_process_chunk(campaign_id=campaign.pk, now=now)
    meter.refresh_from_db()
    assert (meter.supply_group, meter.base_date) == (old_group, 1993)
    assert (
        meter.pending_supply_group,
        meter.pending_tariff_index,
        meter.pending_key_revision,
        meter.pending_base_date,
    ) == (new_group, 9, 2, 2014)
    event = AuditEvent.objects.get(action="key_change_campaign.chunk_applied")
    assert event.actor == custodian and event.reason == "roll-over" and event.data["mode"] == "precode"
    assert event.before["configs"] == [
        {"sgc": old_group.sgc, "krn": 1, "ti": 4, "base_date": 1993, "meter_ids": [meter.pk]}
    ]
    assert event.after["configs"][0]["ti"] == 9 and event.after["configs"][0]["base_date"] == 2014


def test_a_large_campaign_runs_parallel_chunk_chains(custodian, django_capture_on_commit_callbacks, monkeypatch):
    old_group, new_group = _rollover_setup()
    meters = [make_meter(supply_group=old_group, base_date=1993) for _ in range(5)]
    monkeypatch.setattr(campaigns_module, "CHUNK_SIZE", 2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        campaign_start(
            actor=custodian,
            meter_ids=[m.pk for m in meters],
            name="big",
            mode="now",
            delivery="none",
            reason="roll-over",
            target=KeyChangeTarget(supply_group=new_group),
        )
    assert len(callbacks) == campaigns_module.PARALLEL_CHUNKS == 2


def test_campaign_sms_goes_to_saved_customers_and_a_meter_nobody_saved_keeps_its_tokens(
    custodian, now, django_capture_on_commit_callbacks
):
    old_group, new_group = _rollover_setup()
    saved, unsaved = (
        make_meter(supply_group=old_group, base_date=1993),
        make_meter(supply_group=old_group, base_date=1993),
    )
    customer = make_customer()
    CustomerMeter.objects.create(customer=customer, meter=saved)
    with django_capture_on_commit_callbacks(execute=False):
        campaign = campaign_start(
            actor=custodian,
            meter_ids=[saved.pk, unsaved.pk],
            name="sms",
            mode="now",
            delivery="sms",
            reason="roll-over",
            target=KeyChangeTarget(supply_group=new_group),
        )
    assert campaign_process_chunk(campaign_id=campaign.pk, now=now) == 2
    assert SmsMessage.objects.filter(phone=customer.phone).count() == 1  # one pair: "enter A then B"
    assert Token.objects.filter(meter=unsaved, kind=Token.Kind.KEY_CHANGE).count() == 2
    assert set(campaign.items.values_list("status", flat=True)) == {KeyChangeItem.Status.DONE}


def test_a_meter_the_engine_refuses_fails_alone(custodian, now, django_capture_on_commit_callbacks):
    old_group, new_group = _rollover_setup()
    bad, good = make_meter(supply_group=old_group, base_date=1993), make_meter(supply_group=old_group, base_date=1993)
    Meter.objects.filter(pk=bad.pk).update(pan="600727" + "0" * 12)  # a PAN with a wrong check digit
    campaign = _campaign(custodian, [bad, good], new_group, django_capture_on_commit_callbacks)
    campaign_process_chunk(campaign_id=campaign.pk, now=now)
    statuses = dict(campaign.items.values_list("meter_id", "status"))
    assert statuses == {bad.pk: "failed", good.pk: "done"}
    assert campaign.items.get(meter=bad).error.startswith("the STS engine refused")
    assert Meter.objects.get(pk=bad.pk).base_date == 1993
    event = AuditEvent.objects.get(action="key_change_campaign.chunk_applied")
    assert event.data["failed"] == {str(bad.pk): campaign.items.get(meter=bad).error}
