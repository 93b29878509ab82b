"""The registrar's view of the agents' extensions: the contact centre's stored HA1s as the
SIP stack's ``PhoneCredentials`` (the registrar itself knows no Django)."""

from __future__ import annotations

from hotline.contactcentre.acd_services import extension_credentials
from hotline.voice.sip.registrar import PhoneCredentials


def phone_book() -> dict[str, PhoneCredentials]:
    """Every enabled extension with a password, keyed by its number."""
    return {
        row.number: PhoneCredentials(row.number, row.realm, row.ha1_md5, row.ha1_sha256)
        for row in extension_credentials()
    }
