"""vending.sts.batch (the campaign's key change path) gives the engine's own key change tokens."""

import itertools
import random

import pytest

from vending.sts import MeterConfig, RequestError, key_change_tokens
from vending.sts.batch import KeyChangeBatch
from vending.sts.identity import luhn_check_digit, pan_from_drn

PAIRS = [("02", "07"), ("02", "09"), ("04", "07"), ("04", "09"), ("04", "11")]


def _group(dkga: str, ea: str, sgc: str, seed: int) -> MeterConfig:
    size = 8 if dkga == "02" else 20
    return MeterConfig(sgc=sgc, ea=ea, dkga=dkga, ken=seed % 256, vending_key=random.Random(seed).randbytes(size))


@pytest.mark.parametrize(("dkga", "ea"), PAIRS)
def test_batch_tokens_equal_the_engine_s_for_every_field_variation(dkga, ea):
    current, new = _group(dkga, ea, "600123", 1), _group(dkga, ea, "123456", 2)
    batch = KeyChangeBatch(current, new)
    rng = random.Random(f"{dkga}{ea}")
    variations = itertools.product((0, 1, 2, 3), (1993, 2014, 2035), (False, True))
    for kt, base_date, ro in variations:
        payload = f"{rng.randrange(10**10):010d}"
        pan = pan_from_drn(payload + luhn_check_digit(payload))
        ti, new_ti, krn, new_krn = rng.randrange(100), rng.randrange(100), rng.randrange(1, 10), rng.randrange(1, 10)
        new_base_date = rng.choice((1993, 2014, 2035))
        engine = key_change_tokens(
            current.replace(pan=pan, kt=kt, ti=ti, krn=krn, base_date=base_date),
            new.replace(pan=pan, kt=kt, ti=new_ti, krn=new_krn, base_date=new_base_date),
            ro=ro,
        )
        assert (
            batch.tokens(
                pan=pan,
                kt=kt,
                ti=ti,
                krn=krn,
                base_date=base_date,
                new_ti=new_ti,
                new_krn=new_krn,
                new_base_date=new_base_date,
                ro=ro,
            )
            == engine
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pan", "600727000000000000"),
        ("kt", 4),
        ("ti", 100),
        ("krn", 0),
        ("new_krn", 10),
        ("base_date", 2000),
        ("new_base_date", 1992),
    ],
)
def test_batch_refuses_what_meter_config_refuses(field, value):
    batch = KeyChangeBatch(_group("02", "07", "600123", 1), _group("02", "07", "600123", 2))
    fields = {
        "pan": pan_from_drn("47500150231"),
        "kt": 2,
        "ti": 1,
        "krn": 1,
        "base_date": 1993,
        "new_ti": 1,
        "new_krn": 2,
        "new_base_date": 2014,
    }
    with pytest.raises(RequestError):
        batch.tokens(**{**fields, field: value}, ro=False)


def test_a_batch_needs_vending_keys_of_matching_lengths():
    with pytest.raises(RequestError):
        KeyChangeBatch(_group("04", "07", "600123", 1), _group("04", "11", "600123", 2))
    with pytest.raises(RequestError):
        KeyChangeBatch(MeterConfig(sgc="600123", decoder_key=bytes(8)), _group("02", "07", "600123", 2))
