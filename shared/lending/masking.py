"""Personal data as operations may see it: enough to recognise a borrower on the phone, never enough to be them.

The conventions of Chinese finance apps: a mobile number keeps its first three and last four digits
(``138****0001``), a bank card number its first four and last four (``6222****5678``), a resident ID number its
first three and last four with the birth date hidden (``110***********1234``), a name its first character
(``李*``). A shorter phone keeps only its last two digits and a shorter account its last four, so at least half of
an account is always hidden. The stars of a phone and an account are a fixed ``****``: their length is not told.
"""

from __future__ import annotations

from collections.abc import Mapping

STARS = "****"
#: China's country calling code, dropped from a mobile number before it is masked (``+86`` and ``0086``).
CHINA_PREFIXES = ("0086", "86")
MOBILE_DIGITS = 11


def _national(phone: str) -> str:
    digits = phone.removeprefix("+")
    for prefix in CHINA_PREFIXES:
        if digits.startswith(prefix) and len(digits) == len(prefix) + MOBILE_DIGITS:
            return digits[len(prefix) :]
    return digits


def mask_phone(phone: str) -> str:
    """``+8613800000001`` → ``138****0001``; a shorter number keeps only its last two digits."""
    national = _national(phone)
    if len(national) >= MOBILE_DIGITS:
        return f"{national[:3]}{STARS}{national[-4:]}"
    return f"{STARS}{national[-2:]}"


#: A bank card number's length (16 to 19 digits): long enough to keep its first four and last four.
CARD_DIGITS = 16


def mask_bank_account(account: str) -> str:
    """``6222020000005678`` → ``6222****5678``; an account shorter than a card number keeps only its last four."""
    if len(account) >= CARD_DIGITS:
        return f"{account[:4]}{STARS}{account[-4:]}"
    return f"{STARS}{account[-4:]}"


def mask_id_number(id_number: str) -> str:
    """``110101198505050123`` → ``110***********0123``: the region's first three and the last four (sequence and
    check character); the birth date, its length kept in stars."""
    if len(id_number) < 14:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_name(name: str) -> str:
    """``李华`` → ``李*``, ``Li Hua`` → ``L*****``: the first character, then a star for every other."""
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


MASKS = {
    "name": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
}


def masked(person: Mapping[str, str]) -> dict[str, str]:
    """Each personal data field masked by its own rule (a field without one is refused: nothing passes unmasked)."""
    unknown = sorted(set(person) - set(MASKS))
    if unknown:
        raise KeyError(f"no mask for {', '.join(unknown)}")
    return {field: MASKS[field](value) for field, value in person.items()}
