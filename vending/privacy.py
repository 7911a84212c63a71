"""What a phone may learn about a meter's owner: a masked label, never the name staff typed in.

Anyone can type any meter number into USSD or SMS, and koronto has no proof of who owns a meter (saving
a meter proves nothing: anyone may save any number). So the customer channels show the meter's label
masked ("Wanjiku Home" -> "W*** H***": enough for the owner to recognise, nothing for a stranger), and the
alias a customer gave a meter themselves as they typed it.
"""


def masked_label(label: str) -> str:
    """Each word's first letter and three stars (a fixed count: the length of a name is a clue too)."""
    words = [w for w in (label or "").split() if w]
    return " ".join(f"{w[0]}***" for w in words) or "***"
