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


@shared_task(acks_late=True)
def build_compilation(compilation_id: int) -> bool:
    """Build a forum compilation's PDF and XLSX (ids only as arguments). Delivered twice, it builds once: a
    finished or running compilation is left alone (see avvikelser.compilation.build)."""
    from avvikelser.compilation import build

    return build(compilation_id)
