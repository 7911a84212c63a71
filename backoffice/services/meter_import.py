"""Bulk import of meters from CSV, with a report line per row.

Columns (header row required, order free): drn, label_name, sgc, key_revision, tariff, and optionally
label_address, tariff_index (default 1), key_type (default 2), base_date (default the supply group's).
`tariff` is the tariff's name or id. A row whose DRN exists already is reported and left unchanged;
a bad row is reported and skipped, and never stops the others.
"""

import csv
import io
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from backoffice.models import MeterImport
from backoffice.permissions import IMPORT_METERS, require
from vending.exceptions import VendingError
from vending.meter_numbers import clean_drn
from vending.models import Meter, SupplyGroup, Tariff
from vending.models.choices import BaseDate
from vending.services.audit import audit_record
from vending.services.customers import meter_register

REQUIRED_COLUMNS = ("drn", "label_name", "sgc", "key_revision", "tariff")
MAX_ROWS = 50_000


class BadImportFile(VendingError):
    code = "bad_import_file"


@dataclass(frozen=True)
class RowOutcome:
    row: int
    drn: str
    outcome: str  # created | exists | error
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "drn": self.drn, "outcome": self.outcome, "message": self.message}


def _int(row: dict[str, str], name: str, default: int | None = None) -> int:
    """The column as a whole number; an empty cell takes `default`, or is an error when there is none."""
    text = (row.get(name) or "").strip()
    if not text:
        if default is None:
            raise VendingError(f"{name} is empty")
        return default
    if not text.isdigit():
        raise VendingError(f"{name} must be a whole number, not {text!r}")
    return int(text)


def _tariff(text: str, group: SupplyGroup) -> Tariff:
    text = text.strip()
    tariffs = Tariff.objects.filter(utility=group.utility)
    found = tariffs.filter(pk=int(text)).first() if text.isdigit() else tariffs.filter(name=text).first()
    if found is None:
        raise VendingError(f"no tariff {text!r} for {group.utility}")
    return found


def _import_row(row: dict[str, str], actor: User) -> tuple[str, str, str]:
    drn = clean_drn(row.get("drn") or "")
    if Meter.objects.filter(drn=drn).exists():
        return drn, "exists", "already registered; left unchanged"
    krn = _int(row, "key_revision")
    group = SupplyGroup.objects.filter(sgc=(row.get("sgc") or "").strip(), key_revision=krn).first()
    if group is None:
        raise VendingError(f"no supply group {row.get('sgc')!r} with KRN {krn}")
    label = (row.get("label_name") or "").strip()
    if not label:
        raise VendingError("label_name is empty")
    base_date = _int(row, "base_date", group.base_date)
    if base_date not in BaseDate.values:
        raise VendingError(f"base_date must be 1993, 2014 or 2035, not {base_date}")
    ti = _int(row, "tariff_index", 1)
    kt = _int(row, "key_type", 2)
    if ti > 99 or kt > 3:
        raise VendingError("tariff_index is 0 to 99 and key_type 0 to 3")
    meter_register(
        drn=drn,
        supply_group=group,
        tariff=_tariff(row.get("tariff") or "", group),
        label_name=label[:80],
        label_address=(row.get("label_address") or "").strip()[:160],
        tariff_index=ti,
        key_type=kt,
        base_date=base_date,
        actor=actor,
    )
    return drn, "created", ""


def meters_import_csv(*, actor: User, text: str, file_name: str) -> MeterImport:
    """Register every good row; return the import with its per-row report."""
    require(actor, IMPORT_METERS)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise BadImportFile(f"The CSV needs the columns {', '.join(missing)}.")
    reader.fieldnames = header
    outcomes: list[RowOutcome] = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise BadImportFile(f"At most {MAX_ROWS} rows per file.")
        raw_drn = (row.get("drn") or "").strip()
        try:
            # One savepoint per row: a bad row never undoes the good ones.
            with transaction.atomic():
                drn, outcome, message = _import_row(row, actor)
        except (VendingError, ValueError) as exc:
            outcomes.append(RowOutcome(number, raw_drn, "error", str(exc)[:200]))
        else:
            outcomes.append(RowOutcome(number, drn, outcome, message))
    counts = {kind: sum(1 for o in outcomes if o.outcome == kind) for kind in ("created", "exists", "error")}
    result = MeterImport.objects.create(
        file_name=file_name[:200],
        created_by=actor,
        created_count=counts["created"],
        existing_count=counts["exists"],
        error_count=counts["error"],
        report=[o.as_dict() for o in outcomes],
    )
    audit_record(action="meters.imported", obj=result, actor=actor, data={"file": file_name[:200], **counts})
    return result
