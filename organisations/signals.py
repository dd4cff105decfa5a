from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from organisations import audit
from organisations.models import AuditAction


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record(user, AuditAction.LOGIN, user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(user, AuditAction.LOGOUT, user)
