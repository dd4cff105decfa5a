"""Pluggable delivery of answer links: e-mail through Django's mail backends, SMS through a configurable
sender (a console one for development). Messages carry the link and no personal data; nothing here logs
the link."""

from __future__ import annotations

import sys
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsSender:
    """Writes the SMS to standard output, like Django's console e-mail backend (not to the log)."""

    stream = None

    def send(self, phone: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"SMS till {phone}:\n{text}\n{'-' * 40}\n")
        stream.flush()


class MemorySmsSender:
    """Keeps messages in memory, for tests."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySmsSender.outbox.append((phone, text))


def sms_sender() -> SmsSender:
    return import_string(settings.SMS_SENDER)()


def message(link: str, reminder: bool) -> tuple[str, str]:
    subject = _("Påminnelse: berätta hur mötet var") if reminder else _("Berätta hur mötet var för dig")
    body = "\n\n".join([
        _("Hej! Du var nyligen på ett möte om din samordnade individuella plan (SIP)."),
        _("Vi vill gärna veta hur du upplevde mötet. Det tar ett par minuter och du kan hoppa över frågor."),
        link,
        _("Länken fungerar en gång och bara för dig. Om du inte vill svara kan du tacka nej på sidan."),
    ])
    return subject, body


def send_email(address: str, link: str, reminder: bool = False) -> None:
    subject, body = message(link, reminder)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def send_sms(phone: str, link: str, reminder: bool = False) -> None:
    _subject, body = message(link, reminder)
    sms_sender().send(phone, body)
