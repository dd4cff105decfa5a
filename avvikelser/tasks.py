from celery import shared_task


@shared_task(acks_late=True)
def send_deviation_notices() -> int:
    from avvikelser.notifications import send_due_notices

    return send_due_notices()


@shared_task(acks_late=True)
def send_forum_digests() -> int:
    """The weekly digest to forum members; safe to run as often as beat likes (once per member and week)."""
    from avvikelser.digest import send_digests

    return send_digests()
