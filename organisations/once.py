"""Do a thing at most once per key, even when a periodic task runs twice or a worker dies mid-way.

The caller's model has a unique constraint over the key fields, `claimed_at` (auto_now_add) and `sent_at`.
`claim()` inserts the row (the unique key makes a second run get nothing); a claim that was never marked
done is taken over after `STALE_CLAIM`, by one run only. Reminders, deviation notices and forum digests
all use it.
"""

import datetime

from django.db import IntegrityError, models, transaction
from django.utils import timezone

STALE_CLAIM = datetime.timedelta(minutes=15)


def claim(model: type[models.Model], **key):
    try:
        with transaction.atomic():
            return model.objects.create(**key)
    except IntegrityError:
        pass
    stale = model.objects.filter(**key, sent_at__isnull=True,
                                 claimed_at__lt=timezone.now() - STALE_CLAIM).first()
    # Take a stale claim over only if no other run did in between.
    if stale and model.objects.filter(pk=stale.pk, sent_at__isnull=True, claimed_at=stale.claimed_at).update(
            claimed_at=timezone.now()):
        return stale
    return None


def done(row: models.Model) -> None:
    type(row).objects.filter(pk=row.pk).update(sent_at=timezone.now())
