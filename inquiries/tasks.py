"""Background delivery of queued emails, with retries and exponential backoff.

django-tasks does not retry failed tasks by itself: a failed attempt re-enqueues the task with
``run_after``. The ``OutgoingEmail`` row makes delivery idempotent: once sent, never sent again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend, task
from django_tasks.backends.base import BaseTaskBackend

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(minutes=1)


def retry_delay(attempts):
    """1, 2, 4, 8, 16 minutes…"""
    return BASE_DELAY * (2 ** (attempts - 1))


@task()
def send_outgoing_email(*, email_id):
    from inquiries.models import EmailStatus, OutgoingEmail

    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.PENDING:
            return "skipped"
        email.attempts += 1
        try:
            EmailMessage(
                subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to]
            ).send()
        except Exception as error:
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = EmailStatus.FAILED
                email.save(update_fields=["attempts", "last_error", "status"])
                logger.error("Giving up on email %s after %s attempts: %s", email.pk, email.attempts, error)
                return "failed"
            email.save(update_fields=["attempts", "last_error"])
            _retry_later(email)
            return "retrying"
        email.status = EmailStatus.SENT
        email.sent_at = timezone.now()
        email.body = ""  # it may hold a private follow-up link
        email.last_error = ""
        email.save(update_fields=["attempts", "status", "sent_at", "body", "last_error"])
        return "sent"


def _retry_later(email):
    backend: BaseTaskBackend = default_task_backend
    if backend.supports_defer:
        send_outgoing_email.using(run_after=timezone.now() + retry_delay(email.attempts)).enqueue(
            email_id=email.pk
        )
    else:
        # Backends without scheduling (the immediate one in tests) leave the email pending;
        # `manage.py retry_emails` queues pending emails again.
        logger.warning("Email %s left pending: task backend cannot schedule a retry", email.pk)
