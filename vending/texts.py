"""Customer messages of the purchase pipeline (docs/PROTOCOLS.md §6 rule 9), in English, Somali and Swahili.

Every message fits one 160-character GSM-7 SMS with realistic values and carries the purchase
reference. The token SMS is assembled by `vending.services.sms.token_sms_text`; the keys below are its
pieces. Failure reasons map to text in one place: `failure_text_key`.
"""

from vending.i18n import register

register(
    {
        "en": {
            "pipeline.token": "Token {token}\n{kwh} kWh for {currency} {amount}{breakdown}\nMeter {drn}\nRef {ref}",
            "pipeline.token_with_keys": (
                "Enter the {count} key tokens first, then the credit token.\n{key_tokens}\n"
                "Credit {token}\n{kwh} kWh for {currency} {amount}\nMeter {drn} Ref {ref}"
            ),
            "pipeline.breakdown.vat": "VAT",
            "pipeline.breakdown.fixed": "Fixed",
            "pipeline.breakdown.debt": "Debt",
            "pipeline.breakdown.energy": "Energy",
            "pipeline.failed.cancelled": "Payment cancelled. No money was taken. Dial {ussd} to try again. Ref {ref}",
            "pipeline.failed.insufficient_funds": "Payment failed: not enough balance. No money was taken. Ref {ref}",
            "pipeline.failed.wrong_pin": (
                "Wrong PIN. No money was taken. To try again, dial {ussd} or send your BUY SMS again. Ref {ref}"
            ),
            "pipeline.failed.unreachable": (
                "We could not reach your phone or the prompt expired. No money was taken. Try again. Ref {ref}"
            ),
            "pipeline.failed.busy": "A payment is already in progress. Please wait 2 minutes and try again. Ref {ref}",
            "pipeline.failed.wrong_wallet": (
                "This number cannot pay with {wallet}. Choose another wallet or number. Ref {ref}"
            ),
            "pipeline.failed.limit": (
                "Payment failed: the amount is over your wallet limit. No money was taken. Ref {ref}"
            ),
            "pipeline.failed.provider_error": (
                "Payments are busy right now. No money was taken. Please try again later. Ref {ref}"
            ),
            "pipeline.failed.unknown": "Payment failed. No money was taken. Please try again. Ref {ref}",
            "pipeline.unknown": "We are confirming your payment. Do not pay again. We will SMS you. Ref {ref}",
            "pipeline.token_delayed": (
                "Payment received (ref {ref}). Your token is delayed and will come by SMS. Do not pay again."
            ),
            "pipeline.vend_failed_hold": (
                "We could not create your token. The hold was released; no money was taken. Ref {ref}"
            ),
            "pipeline.vend_failed_refund": (
                "We could not create your token. Your refund (ref {ref}) is being processed."
            ),
            "pipeline.refunded": "Your payment of {currency} {amount} was refunded. Ref {ref}",
            "pipeline.needs_review": "Your payment needs a manual check. Our team will contact you. Ref {ref}",
        },
        "so": {
            "pipeline.token": "Token {token}\n{kwh} kWh {currency} {amount}{breakdown}\nMitir {drn}\nTix {ref}",
            "pipeline.token_with_keys": (
                "Marka hore geli {count}da token ee furaha, kadib token-ka lacagta.\n{key_tokens}\n"
                "Lacag {token}\n{kwh} kWh {currency} {amount}\nMitir {drn} Tix {ref}"
            ),
            "pipeline.breakdown.vat": "Cashuur",
            "pipeline.breakdown.fixed": "Go'an",
            "pipeline.breakdown.debt": "Deyn",
            "pipeline.breakdown.energy": "Koronto",
            "pipeline.failed.cancelled": (
                "Lacag bixinta waa la joojiyay. Lacag lagaama qaadin. Garaac {ussd}. Tix {ref}"
            ),
            "pipeline.failed.insufficient_funds": "Lacag bixinta way fashilantay: haraagu kuma filna. Tix {ref}",
            "pipeline.failed.wrong_pin": (
                "PIN khaldan. Lacag lagaama qaadin. Si aad mar kale isku dayto, garaac {ussd} ama dir IIBSO. Tix {ref}"
            ),
            "pipeline.failed.unreachable": (
                "Taleefankaaga lama helin ama waqtigu wuu dhamaaday. Lacag lagaama qaadin. Tix {ref}"
            ),
            "pipeline.failed.busy": "Lacag bixin kale ayaa socota. Sug 2 daqiiqo kadib isku day. Tix {ref}",
            "pipeline.failed.wrong_wallet": "Lambarkan kuma bixin karo {wallet}. Dooro mid kale. Tix {ref}",
            "pipeline.failed.limit": (
                "Lacag bixinta way fashilantay: xadka ayaa dhaafay. Lacag lagaama qaadin. Tix {ref}"
            ),
            "pipeline.failed.provider_error": (
                "Nidaamka lacagta wuu mashquulsan yahay. Lacag lagaama qaadin. Isku day goor dambe. Tix {ref}"
            ),
            "pipeline.failed.unknown": "Lacag bixinta way fashilantay. Lacag lagaama qaadin. Isku day. Tix {ref}",
            "pipeline.unknown": "Waxaan xaqiijinaynaa lacagtaada. Ha bixin mar kale. SMS ayaan kuu soo diri. Tix {ref}",
            "pipeline.token_delayed": (
                "Lacagta waa la helay (tix {ref}). Token-ku wuu daahay, SMS ayuu ku iman. Ha bixin mar kale."
            ),
            "pipeline.vend_failed_hold": "Token lama samayn karin. Lacagta la xajiyay waa la sii daayay. Tix {ref}",
            "pipeline.vend_failed_refund": "Token lama samayn karin. Lacagtaada waa laguu celinayaa (tix {ref}).",
            "pipeline.refunded": "Lacagtaada {currency} {amount} waa laguu celiyay. Tix {ref}",
            "pipeline.needs_review": (
                "Lacagtaada waxay u baahan tahay hubin. Kooxdayadu way kula soo xiriiri. Tix {ref}"
            ),
        },
        "sw": {
            "pipeline.token": "Tokeni {token}\n{kwh} kWh kwa {currency} {amount}{breakdown}\nMita {drn}\nKumb {ref}",
            "pipeline.token_with_keys": (
                "Weka tokeni {count} za ufunguo kwanza, kisha tokeni ya umeme.\n{key_tokens}\n"
                "Umeme {token}\n{kwh} kWh kwa {currency} {amount}\nMita {drn} Kumb {ref}"
            ),
            "pipeline.breakdown.vat": "VAT",
            "pipeline.breakdown.fixed": "Ada",
            "pipeline.breakdown.debt": "Deni",
            "pipeline.breakdown.energy": "Umeme",
            "pipeline.failed.cancelled": (
                "Malipo yameghairiwa. Hakuna pesa iliyotolewa. Piga {ussd} ujaribu tena. Kumb {ref}"
            ),
            "pipeline.failed.insufficient_funds": (
                "Malipo yameshindwa: salio halitoshi. Hakuna pesa iliyotolewa. Kumb {ref}"
            ),
            "pipeline.failed.wrong_pin": (
                "PIN si sahihi. Hakuna pesa iliyotolewa. Kujaribu tena, piga {ussd} au tuma NUNUA tena. Kumb {ref}"
            ),
            "pipeline.failed.unreachable": (
                "Hatukuweza kufikia simu yako au ombi limeisha muda. Hakuna pesa iliyotolewa. Kumb {ref}"
            ),
            "pipeline.failed.busy": "Malipo mengine yanaendelea. Subiri dakika 2 kisha ujaribu tena. Kumb {ref}",
            "pipeline.failed.wrong_wallet": "Nambari hii haiwezi kulipa kwa {wallet}. Chagua nyingine. Kumb {ref}",
            "pipeline.failed.limit": "Malipo yameshindwa: kiasi kimezidi kikomo. Hakuna pesa iliyotolewa. Kumb {ref}",
            "pipeline.failed.provider_error": (
                "Mfumo wa malipo una shughuli nyingi. Hakuna pesa iliyotolewa. Jaribu baadaye. Kumb {ref}"
            ),
            "pipeline.failed.unknown": "Malipo yameshindwa. Hakuna pesa iliyotolewa. Tafadhali jaribu tena. Kumb {ref}",
            "pipeline.unknown": "Tunathibitisha malipo yako. Usilipe tena. Tutakutumia SMS. Kumb {ref}",
            "pipeline.token_delayed": (
                "Malipo yamepokelewa (kumb {ref}). Tokeni imechelewa, itakuja kwa SMS. Usilipe tena."
            ),
            "pipeline.vend_failed_hold": "Hatukuweza kutengeneza tokeni. Pesa iliyoshikiliwa imeachiliwa. Kumb {ref}",
            "pipeline.vend_failed_refund": "Hatukuweza kutengeneza tokeni. Pesa yako (kumb {ref}) inarudishwa.",
            "pipeline.refunded": "Malipo yako ya {currency} {amount} yamerudishwa. Kumb {ref}",
            "pipeline.needs_review": "Malipo yako yanahitaji ukaguzi. Timu yetu itawasiliana nawe. Kumb {ref}",
        },
    }
)

# FailureReason value (vending.payments.FailureReason) → message key.
_FAILURE_KEYS = {
    "cancelled": "pipeline.failed.cancelled",
    "insufficient_funds": "pipeline.failed.insufficient_funds",
    "wrong_pin": "pipeline.failed.wrong_pin",
    "unreachable": "pipeline.failed.unreachable",
    "busy": "pipeline.failed.busy",
    "wrong_wallet": "pipeline.failed.wrong_wallet",
    "limit": "pipeline.failed.limit",
    "provider_error": "pipeline.failed.provider_error",
}


def failure_text_key(reason: str) -> str:
    """The message for a payment failure reason; anything unlisted gets the generic text."""
    return _FAILURE_KEYS.get(reason, "pipeline.failed.unknown")
