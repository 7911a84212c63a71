"""The simulator's wallet prompt in the payer's language (a Somali phone reads its PIN prompt in Somali).

Rendered on the server from the purchase's language, so the page's script holds no words of its own for it.
"""

from vending.i18n import register

register(
    {
        "en": {
            "demo.wallet.ask": "{wallet}\nPay {currency} {amount} to {merchant}?\nRef {ref}\nEnter PIN:",
            "demo.wallet.pin_hint": "Enter your {length}-digit PIN",
            "demo.wallet.approved": "{wallet}: {currency} {amount} paid to {merchant}.\nYour token will come by SMS.",
            "demo.wallet.wrong_pin": "{wallet}: wrong PIN.\nThe payment was declined.",
            "demo.wallet.declined": "{wallet}: payment cancelled.",
        },
        "so": {
            "demo.wallet.ask": "{wallet}\nMa u bixinaysaa {currency} {amount} {merchant}?\nTix {ref}\nGeli PIN:",
            "demo.wallet.pin_hint": "Geli PIN-kaaga {length}-ta tiro ah",
            "demo.wallet.approved": (
                "{wallet}: {currency} {amount} waa la siiyay {merchant}.\nTokenkaagu SMS ayuu ku iman doonaa."
            ),
            "demo.wallet.wrong_pin": "{wallet}: PIN khaldan.\nLacag bixinta waa la diiday.",
            "demo.wallet.declined": "{wallet}: lacag bixinta waa la joojiyay.",
        },
        "sw": {
            "demo.wallet.ask": "{wallet}\nLipa {currency} {amount} kwa {merchant}?\nKumb {ref}\nWeka PIN:",
            "demo.wallet.pin_hint": "Weka PIN yako ya tarakimu {length}",
            "demo.wallet.approved": "{wallet}: {currency} {amount} imelipwa kwa {merchant}.\nTokeni itakuja kwa SMS.",
            "demo.wallet.wrong_pin": "{wallet}: PIN si sahihi.\nMalipo yamekataliwa.",
            "demo.wallet.declined": "{wallet}: malipo yameghairiwa.",
        },
    }
)
