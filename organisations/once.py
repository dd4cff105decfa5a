"""Do a thing at most once per key, even when a periodic task runs twice or a worker dies mid-way.

The caller's model has a unique constraint over the key fields, `claimed_at` (auto_now_add) and `sent_at`.
`claim()` inserts the row (the unique key makes a second run get nothing); a claim that was never marked
done is taken over after `STALE_CLAIM`, by one run only. Reminders, deviation notices and forum digests
all use it through `held()`: claim, send and mark done in one transaction, so a worker killed mid-send
leaves no claim behind (PostgreSQL rolls it back when the connection drops) and the redelivered task
(acks_late, reject_on_worker_lost) sends at once instead of after `STALE_CLAIM`. The only window for a
duplicate is between the mail server accepting the message and the COMMIT (see docs/operations.md).
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def held(model: type[models.Model], **key) -> Iterator[models.Model | None]:
    """`with held(Model, **key) as row:` — row is None when the thing is done (or being done by another run,
    which this run waits for on the unique key); otherwise do it inside the block. Leaving the block normally
    marks it done in the same transaction; an exception (or a dead worker) leaves no trace, so the next run
    does it."""
    with transaction.atomic():
        row = claim(model, **key)
        yield row
        if row is not None:
            done(row)
