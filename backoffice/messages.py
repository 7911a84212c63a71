"""Customer SMS sent by staff actions (engineering, free and key change tokens), in en / so / sw."""

from vending.i18n import register

register(
    {
        "en": {
            "staff.engineering_token": "Meter {drn}: enter this service token from your utility: {token}",
            "staff.free_token": "Meter {drn}: {kwh} kWh free credit from your utility. Enter token {token}",
            "staff.key_change": (
                "Meter {drn} key change {n}/{total}: enter {first} then {second} before your next token."
            ),
        },
        "so": {
            "staff.engineering_token": "Mitirka {drn}: geli koodkan adeegga ee shirkadda korontada: {token}",
            "staff.free_token": "Mitirka {drn}: {kwh} kWh koronto bilaash ah. Geli koodka {token}",
            "staff.key_change": (
                "Mitirka {drn} beddelka furaha {n}/{total}: geli {first} kadibna {second} ka hor koodkaaga xiga."
            ),
        },
        "sw": {
            "staff.engineering_token": "Mita {drn}: weka tokeni hii ya huduma kutoka kwa kampuni ya umeme: {token}",
            "staff.free_token": "Mita {drn}: umeme wa bure {kwh} kWh kutoka kwa kampuni. Weka tokeni {token}",
            "staff.key_change": (
                "Mita {drn} kubadilisha ufunguo {n}/{total}: weka {first} kisha {second} kabla ya tokeni ijayo."
            ),
        },
    }
)
