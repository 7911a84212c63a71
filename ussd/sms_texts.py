"""What the SMS channel writes back, in English, Somali and Swahili (registered into vending.i18n).

Every message fits one 160-character GSM-7 SMS with realistic values (tests render each one with the
longest values it can get). Examples use the keyword of the reader's language, so a Swahili reader is
shown ``NUNUA 01234567897 500``; English keywords work in every language. 01234567897 is a made-up
meter number with a valid check digit, so copying the example only fails at "not registered".
"""

from vending.i18n import register

EXAMPLE_DRN = "01234567897"

_EN = {
    "sms.help": (
        "Koronto SMS: BUY meter amount [MPESA/EVC/ZAAD/SAHAL/EDAHAB], TOKEN [meter], METERS, ADD meter name, "
        "REMOVE meter, STATUS [ref], LANG EN/SO/SW"
    ),
    "sms.unknown": "Sorry, we did not understand. To buy send BUY 01234567897 500 (meter, amount). Send HELP for more.",
    "sms.example.buy": "BUY 01234567897 500",
    "sms.example.token": "TOKEN 01234567897",
    "sms.example.add": "ADD 01234567897 Home",
    "sms.example.remove": "REMOVE 01234567897",
    "sms.example.status": "STATUS AB12CD34",
    "sms.example.lang": "LANG SW",
    "sms.example.meters": "METERS",
    "sms.err.meter.missing": "Please add the meter number. Send e.g. {example}",
    "sms.err.meter.length": "A meter number has 11 or 13 digits. Please check it and send e.g. {example}",
    "sms.err.meter.check_digit": "That meter number is not right: check the digits on the meter. Send e.g. {example}",
    "sms.err.meter.not_digits": "A meter number has digits only. Send e.g. {example}",
    "sms.err.meter.too_long": "That meter name is too long (30 letters at most). Send e.g. {example}",
    "sms.err.name.too_long": "That meter name is too long (30 letters at most). Send e.g. {example}",
    "sms.err.amount.missing": "Please add the amount after the meter number. Send e.g. {example}",
    "sms.err.amount.format": "We could not read the amount. Write it in digits, e.g. {example}",
    "sms.err.amount.zero": "The amount must be more than 0. Send e.g. {example}",
    "sms.err.wallet.unknown": "We take MPESA, EVC, ZAAD, SAHAL and EDAHAB. Put the wallet last, e.g. {example} MPESA",
    "sms.err.amount.extra": 'We did not understand "{words}". Send the meter, the amount and a wallet, e.g. {example}',
    "sms.err.language.missing": "Send LANG EN for English, LANG SO for Somali or LANG SW for Swahili.",
    "sms.err.language.unknown": "Send LANG EN for English, LANG SO for Somali or LANG SW for Swahili.",
    "sms.err.reference.format": "Send STATUS for your last purchase, or STATUS and the reference, e.g. {example}",
    "sms.buy.prompt": "Approve the payment prompt on your phone. {summary}. Meter {drn}. Token comes by SMS. Ref {ref}",
    "sms.buy.need_wallet": "Please put the wallet last ({wallets}), e.g. {example} {wallet}",
    "sms.buy.too_many": "Too many purchases from this phone in the last hour. Please try again later.",
    "sms.slow_down": "Too many messages from this phone. Please wait an hour before sending more.",
    "sms.token.none": "No token for meter {drn} was bought from this phone. Tokens go only to the phone that paid.",
    "sms.token.none_any": "No token has been bought from this phone yet. To buy send {example}",
    "sms.token.not_ready": "Your token for meter {drn} is not ready yet. It will come by SMS. Do not pay again.",
    "sms.meters.list": "Your meters: {meters}",
    "sms.meters.none": "You have no saved meters. Save one with {example}",
    "sms.add.done": "Meter {drn} ({name}) saved as {alias}.",
    "sms.add.done_plain": "Meter {drn} ({name}) saved. Send METERS to see your meters.",
    "sms.add.too_many": "You have saved the most meters allowed. Remove one first, e.g. {example}",
    "sms.remove.done": "Meter {drn} was removed from your saved meters.",
    "sms.remove.not_saved": "Meter {meter} is not in your saved meters. Send METERS to see them.",
    "sms.alias.unknown": "You have no saved meter called {alias}. Send METERS to see yours, or use the meter number.",
    "sms.status.line": "Ref {ref}: {amount} for meter {drn} on {date}: {state}",
    "sms.status.none": "No purchase has been made from this phone yet. To buy send {example}",
    "sms.status.not_found": "No purchase {ref} was made from this phone. Please check the reference.",
    "sms.state.created": "being started",
    "sms.state.payment_pending": "waiting for your payment",
    "sms.state.paid": "paid, token coming by SMS",
    "sms.state.vended": "token sent by SMS",
    "sms.state.delivered": "token delivered",
    "sms.state.payment_failed": "payment failed, no money taken",
    "sms.state.needs_review": "being checked by our team",
    "sms.state.refund_pending": "refund in progress",
    "sms.state.refunded": "refunded",
    "sms.state.cancelled": "cancelled",
    "sms.lang.done": "OK, we will write to you in English.",
    "sms.error.unknown_meter": "Meter {drn} is not registered with us. Please check the number on the meter.",
    "sms.error.meter_blocked": "Meter {drn} cannot buy electricity now. Please call customer care.",
    "sms.error.not_vendable": "Meter {drn} cannot be sold now. Please contact the utility.",
    "sms.error.unsupported_wallet": "Meter {drn} is paid in {currency}. Use {wallets}.",
    "sms.error.amount_out_of_range": "That amount cannot be paid for meter {drn}. Please try another amount.",
    "sms.error.rate_limited": "Too many payment requests. Please wait a few minutes and try again.",
    "sms.error.permission_denied": "That purchase was not made from this phone.",
    "sms.error.generic": "Sorry, we could not do that now. No money was taken. Please try again later.",
}

_SO = {
    "sms.help": (
        "Koronto SMS: IIBSO mitir lacag [EVC/ZAAD/SAHAL/EDAHAB], KOODH [mitir], MITIRO, KUDAR mitir magac, "
        "KASAAR mitir, XAALAD [tix], LUQAD SO/EN/SW"
    ),
    "sms.unknown": (
        "Waan ka xunnahay, lama fahmin. Si aad u iibsato dir IIBSO "
        "01234567897 10 (mitir, lacag). Dir CAAWI."
    ),
    "sms.example.buy": "IIBSO 01234567897 10",
    "sms.example.token": "KOODH 01234567897",
    "sms.example.add": "KUDAR 01234567897 Guri",
    "sms.example.remove": "KASAAR 01234567897",
    "sms.example.status": "XAALAD AB12CD34",
    "sms.example.lang": "LUQAD EN",
    "sms.example.meters": "MITIRO",
    "sms.err.meter.missing": "Fadlan ku dar lambarka mitirka. Tusaale: {example}",
    "sms.err.meter.length": "Lambarka mitirku waa 11 ama 13 god. Fadlan hubi oo dir, tusaale: {example}",
    "sms.err.meter.check_digit": "Lambarka mitirku sax maaha: hubi tirooyinka mitirka. Tusaale: {example}",
    "sms.err.meter.not_digits": "Lambarka mitirku waa tirooyin kaliya. Tusaale: {example}",
    "sms.err.meter.too_long": "Magaca mitirku aad buu u dheer yahay (ugu badnaan 30 xaraf). Tusaale: {example}",
    "sms.err.name.too_long": "Magaca mitirku aad buu u dheer yahay (ugu badnaan 30 xaraf). Tusaale: {example}",
    "sms.err.amount.missing": "Fadlan ku dar lacagta lambarka mitirka kadib. Tusaale: {example}",
    "sms.err.amount.format": "Lacagta lama akhrin karo. U qor tiro ahaan, tusaale: {example}",
    "sms.err.amount.zero": "Lacagtu waa inay ka badnaataa 0. Tusaale: {example}",
    "sms.err.wallet.unknown": (
        "Waxaan qaadanaa EVC, ZAAD, SAHAL, EDAHAB iyo MPESA. Qor dhamaadka, tusaale: {example} EVC"
    ),
    "sms.err.amount.extra": 'Ma fahmin "{words}". Soo dir mitirka, lacagta iyo boorsada, tusaale: {example}',
    "sms.err.language.missing": "Dir LUQAD SO (Soomaali), LUQAD EN (Ingiriis) ama LUQAD SW (Sawaaxili).",
    "sms.err.language.unknown": "Dir LUQAD SO (Soomaali), LUQAD EN (Ingiriis) ama LUQAD SW (Sawaaxili).",
    "sms.err.reference.format": "Dir XAALAD iibkii ugu dambeeyay, ama XAALAD iyo tixraaca, tusaale: {example}",
    "sms.buy.prompt": (
        "Ogolow codsiga lacag bixinta ee taleefankaaga. {summary}. "
        "Mitir {drn}. Token SMS ayuu ku iman. Tix {ref}"
    ),
    "sms.buy.need_wallet": "Fadlan qor boorsada dhamaadka ({wallets}), tusaale: {example} {wallet}",
    "sms.buy.too_many": "Iibsashooyin badan ayaa saacaddan ka yimid taleefankan. Fadlan isku day goor dambe.",
    "sms.slow_down": "Fariimo badan ayaa ka yimid taleefankan. Fadlan sug saacad kahor intaadan dirin kuwo kale.",
    "sms.token.none": (
        "Token mitirka {drn} lagama iibsan taleefankan. Token-ka "
        "waxaa loo diraa taleefanka bixiyay oo kaliya."
    ),
    "sms.token.none_any": "Weli token lagama iibsan taleefankan. Si aad u iibsato dir {example}",
    "sms.token.not_ready": "Token-ka mitirka {drn} weli diyaar maaha. SMS ayuu ku iman. Ha bixin mar kale.",
    "sms.meters.list": "Mitirradaada: {meters}",
    "sms.meters.none": "Mitir kaydsan ma lihid. Ku kaydi: {example}",
    "sms.add.done": "Mitirka {drn} ({name}) waxaa loo kaydiyay {alias}.",
    "sms.add.done_plain": "Mitirka {drn} ({name}) waa la kaydiyay. Dir MITIRO si aad u aragto mitirradaada.",
    "sms.add.too_many": "Waxaad kaydisay inta ugu badan. Marka hore ka saar mid, tusaale: {example}",
    "sms.remove.done": "Mitirka {drn} waa laga saaray mitirradaada kaydsan.",
    "sms.remove.not_saved": "Mitirka {meter} kuma jiro mitirradaada kaydsan. Dir MITIRO si aad u aragto.",
    "sms.alias.unknown": "Mitir lagu magacaabo {alias} ma kaydsanid. Dir MITIRO, ama isticmaal lambarka mitirka.",
    "sms.status.line": "Tix {ref}: {amount} mitirka {drn} {date}: {state}",
    "sms.status.none": "Weli wax iib ah lagama samayn taleefankan. Si aad u iibsato dir {example}",
    "sms.status.not_found": "Iib {ref} ah lagama samayn taleefankan. Fadlan hubi tixraaca.",
    "sms.state.created": "waa la bilaabayaa",
    "sms.state.payment_pending": "waxaa la sugayaa lacag bixintaada",
    "sms.state.paid": "waa la bixiyay, token SMS ayuu ku iman",
    "sms.state.vended": "token waxaa lagu diray SMS",
    "sms.state.delivered": "token waa la gaarsiiyay",
    "sms.state.payment_failed": "lacag bixintu way fashilantay, lacag lagaama qaadin",
    "sms.state.needs_review": "kooxdayada ayaa hubinaysa",
    "sms.state.refund_pending": "lacag celin ayaa socota",
    "sms.state.refunded": "lacagta waa laguu celiyay",
    "sms.state.cancelled": "waa la joojiyay",
    "sms.lang.done": "Hagaag, waxaan kuugu qori doonaa Af-Soomaali.",
    "sms.error.unknown_meter": "Mitirka {drn} nalama diiwaan gelin. Fadlan hubi lambarka mitirka.",
    "sms.error.meter_blocked": "Mitirka {drn} hadda koronto uma iibsan karo. Fadlan wac adeegga macaamiisha.",
    "sms.error.not_vendable": "Mitirka {drn} hadda lama iibin karo. Fadlan la xiriir shirkadda korontada.",
    "sms.error.unsupported_wallet": "Mitirka {drn} waxaa lagu bixiyaa {currency}. Isticmaal {wallets}.",
    "sms.error.amount_out_of_range": "Lacagtaas laguma bixin karo mitirka {drn}. Fadlan isku day lacag kale.",
    "sms.error.rate_limited": "Codsiyo lacag bixin oo badan. Fadlan sug dhowr daqiiqo oo isku day mar kale.",
    "sms.error.permission_denied": "Iibkaas lagama samayn taleefankan.",
    "sms.error.generic": "Waan ka xunnahay, hadda lama samayn karo. Lacag lagaama qaadin. Isku day goor dambe.",
}

_SW = {
    "sms.help": (
        "Koronto SMS: NUNUA mita kiasi [MPESA], TOKENI [mita], MITA, ONGEZA mita jina, ONDOA mita, "
        "HALI [kumb], LUGHA SW/EN/SO"
    ),
    "sms.unknown": "Samahani, hatukuelewa. Kununua tuma NUNUA 01234567897 500 (mita, kiasi). Tuma MSAADA kwa zaidi.",
    "sms.example.buy": "NUNUA 01234567897 500",
    "sms.example.token": "TOKENI 01234567897",
    "sms.example.add": "ONGEZA 01234567897 Nyumbani",
    "sms.example.remove": "ONDOA 01234567897",
    "sms.example.status": "HALI AB12CD34",
    "sms.example.lang": "LUGHA EN",
    "sms.example.meters": "MITA",
    "sms.err.meter.missing": "Tafadhali ongeza nambari ya mita. Tuma mfano {example}",
    "sms.err.meter.length": "Nambari ya mita ina tarakimu 11 au 13. Tafadhali iangalie na utume mfano {example}",
    "sms.err.meter.check_digit": "Nambari hiyo ya mita si sahihi: angalia tarakimu kwenye mita. Tuma mfano {example}",
    "sms.err.meter.not_digits": "Nambari ya mita ni tarakimu tu. Tuma mfano {example}",
    "sms.err.meter.too_long": "Jina hilo la mita ni refu mno (herufi 30 zaidi). Tuma mfano {example}",
    "sms.err.name.too_long": "Jina hilo la mita ni refu mno (herufi 30 zaidi). Tuma mfano {example}",
    "sms.err.amount.missing": "Tafadhali ongeza kiasi baada ya nambari ya mita. Tuma mfano {example}",
    "sms.err.amount.format": "Hatukuweza kusoma kiasi. Kiandike kwa tarakimu, mfano {example}",
    "sms.err.amount.zero": "Kiasi lazima kiwe zaidi ya 0. Tuma mfano {example}",
    "sms.err.wallet.unknown": "Tunapokea MPESA, EVC, ZAAD, SAHAL na EDAHAB. Weka pochi mwisho, mfano {example} MPESA",
    "sms.err.amount.extra": 'Hatukuelewa "{words}". Tuma mita, kiasi na pochi, mfano {example}',
    "sms.err.language.missing": "Tuma LUGHA SW kwa Kiswahili, LUGHA EN kwa Kiingereza au LUGHA SO kwa Kisomali.",
    "sms.err.language.unknown": "Tuma LUGHA SW kwa Kiswahili, LUGHA EN kwa Kiingereza au LUGHA SO kwa Kisomali.",
    "sms.err.reference.format": "Tuma HALI kwa ununuzi wako wa mwisho, au HALI na kumbukumbu, mfano {example}",
    "sms.buy.prompt": (
        "Idhinisha ombi la malipo kwenye simu yako. {summary}. Mita "
        "{drn}. Tokeni itakuja kwa SMS. Kumb {ref}"
    ),
    "sms.buy.need_wallet": "Tafadhali weka pochi mwisho ({wallets}), mfano {example} {wallet}",
    "sms.buy.too_many": "Ununuzi mwingi kutoka simu hii katika saa moja. Tafadhali jaribu tena baadaye.",
    "sms.slow_down": "Ujumbe mwingi kutoka simu hii. Tafadhali subiri saa moja kabla ya kutuma tena.",
    "sms.token.none": (
        "Hakuna tokeni ya mita {drn} iliyonunuliwa kutoka simu "
        "hii. Tokeni hutumwa tu kwa simu iliyolipa."
    ),
    "sms.token.none_any": "Bado hakuna tokeni iliyonunuliwa kutoka simu hii. Kununua tuma {example}",
    "sms.token.not_ready": "Tokeni yako ya mita {drn} bado haijawa tayari. Itakuja kwa SMS. Usilipe tena.",
    "sms.meters.list": "Mita zako: {meters}",
    "sms.meters.none": "Huna mita zilizohifadhiwa. Hifadhi moja kwa {example}",
    "sms.add.done": "Mita {drn} ({name}) imehifadhiwa kama {alias}.",
    "sms.add.done_plain": "Mita {drn} ({name}) imehifadhiwa. Tuma MITA kuona mita zako.",
    "sms.add.too_many": "Umehifadhi mita nyingi kabisa zinazoruhusiwa. Ondoa moja kwanza, mfano {example}",
    "sms.remove.done": "Mita {drn} imeondolewa kwenye mita zako.",
    "sms.remove.not_saved": "Mita {meter} haimo kwenye mita zako. Tuma MITA kuziona.",
    "sms.alias.unknown": "Huna mita iitwayo {alias}. Tuma MITA kuona zako, au tumia nambari ya mita.",
    "sms.status.line": "Kumb {ref}: {amount} kwa mita {drn} tarehe {date}: {state}",
    "sms.status.none": "Bado hakuna ununuzi kutoka simu hii. Kununua tuma {example}",
    "sms.status.not_found": "Hakuna ununuzi {ref} kutoka simu hii. Tafadhali angalia kumbukumbu.",
    "sms.state.created": "unaanzishwa",
    "sms.state.payment_pending": "inasubiri malipo yako",
    "sms.state.paid": "imelipwa, tokeni itakuja kwa SMS",
    "sms.state.vended": "tokeni imetumwa kwa SMS",
    "sms.state.delivered": "tokeni imefika",
    "sms.state.payment_failed": "malipo yameshindwa, hakuna pesa iliyotolewa",
    "sms.state.needs_review": "inakaguliwa na timu yetu",
    "sms.state.refund_pending": "pesa inarudishwa",
    "sms.state.refunded": "pesa imerudishwa",
    "sms.state.cancelled": "imeghairiwa",
    "sms.lang.done": "Sawa, tutakuandikia kwa Kiswahili.",
    "sms.error.unknown_meter": "Mita {drn} haijasajiliwa kwetu. Tafadhali angalia nambari kwenye mita.",
    "sms.error.meter_blocked": "Mita {drn} haiwezi kununua umeme sasa. Tafadhali piga huduma kwa wateja.",
    "sms.error.not_vendable": "Mita {drn} haiwezi kuuziwa sasa. Tafadhali wasiliana na kampuni ya umeme.",
    "sms.error.unsupported_wallet": "Mita {drn} inalipwa kwa {currency}. Tumia {wallets}.",
    "sms.error.amount_out_of_range": "Kiasi hicho hakiwezi kulipwa kwa mita {drn}. Tafadhali jaribu kiasi kingine.",
    "sms.error.rate_limited": "Maombi mengi ya malipo. Tafadhali subiri dakika chache ujaribu tena.",
    "sms.error.permission_denied": "Ununuzi huo haukufanywa kutoka simu hii.",
    "sms.error.generic": "Samahani, hatukuweza kufanya hivyo sasa. Hakuna pesa iliyotolewa. Jaribu tena baadaye.",
}

register({"en": _EN, "so": _SO, "sw": _SW})
