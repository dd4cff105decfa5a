"""The registerutdrag as PDF (template dataskydd/registerutdrag.html), shared by the API and the screens."""

from __future__ import annotations

from django.utils.translation import gettext as _

from frontend.pdf import render_pdf


def pdf_context(data: dict) -> dict:
    person = data["person"]
    labels = [
        (_("Namn"), f"{person['first_name']} {person['last_name']}"),
        (_("Identitet"), person["identifier"]),
        (_("Kön"), person["gender"]),
        (_("Födelseår"), person["birth_year"]),
        (_("Skyddad identitet"), _("Ja") if person["protected_identity"] else _("Nej")),
        (_("Mobiltelefon"), person["phone"]),
        (_("E-post"), person["email"]),
        (_("Adress"), " ".join(filter(None, [person["address"], person["postal_code"], person["city"]]))),
        (_("Föredragen kontaktväg"), person["preferred_channel"]),
        (_("Registrerad av"), f"{person['registered_by_unit']}, {person['registered_by_organisation']}"),
    ]
    return {"data": data, "person_rows": labels}


def registerutdrag_pdf(data: dict) -> bytes:
    """The extract `sip.person_data.registerutdrag()` returned, as PDF bytes."""
    return render_pdf("dataskydd/registerutdrag.html", pdf_context(data))


def filename(data: dict, extension: str) -> str:
    """The download's name: the person's id, never the number or the name."""
    return f"registerutdrag-{data['person']['id']}.{extension}"
