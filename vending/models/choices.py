"""Small vocabularies shared by several models."""

from django.db import models
from django.utils import timezone

from vending.sts.tid import base_date_in_use


class Currency(models.TextChoices):
    KES = "KES", "Kenyan shilling"
    USD = "USD", "US dollar"
    SLSH = "SLSH", "Somaliland shilling"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SOMALI = "so", "Somali"
    SWAHILI = "sw", "Swahili"


class Channel(models.TextChoices):
    USSD = "ussd", "USSD"
    SMS = "sms", "SMS"
    STAFF = "staff", "Staff"
    API = "api", "API"


class EncryptionAlgorithm(models.TextChoices):
    EA07 = "07", "EA07 (STA)"
    EA09 = "09", "EA09 (DEA)"
    EA11 = "11", "EA11 (MISTY1)"


class KeyGenerationAlgorithm(models.TextChoices):
    DKGA02 = "02", "DKGA02 (DES, 64-bit vending key)"
    DKGA04 = "04", "DKGA04 (HMAC-SHA-256, 160-bit vending key)"


class BaseDate(models.IntegerChoices):
    Y1993 = 1993, "1993-01-01"
    Y2014 = 2014, "2014-01-01"
    Y2035 = 2035, "2035-01-01"


def base_date_for_new_rows() -> int:
    """The default base date of a new supply group or meter: the one that numbers tokens today (2014 until
    2045-11-24, then 2035), so a row added in the admin with the proposed value can be sold a token."""
    return base_date_in_use(timezone.localtime())


class KeyType(models.IntegerChoices):
    DITK = 0, "0 DITK (initialisation)"
    DDTK = 1, "1 DDTK (default)"
    DUTK = 2, "2 DUTK (unique)"
    DCTK = 3, "3 DCTK (common)"
