from celery import shared_task


@shared_task(acks_late=True)
def send_deviation_notices() -> int:
    from avvikelser.notifications import send_due_notices

    return send_due_notices()
