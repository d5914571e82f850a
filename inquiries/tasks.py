"""Background tasks: delivering an email (``inquiries.delivery``), and queueing that delivery."""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist

from inquiries import delivery
from inquiries.models import OutgoingEmail

# The emails queued inside ``delivered_together()``, when in one.
_together: ContextVar[list[int] | None] = ContextVar("emails_delivered_together", default=None)


@task()
def send_outgoing_email(*, email_id):
    return _deliver(email_id)


@task()
def send_outgoing_emails(*, email_ids):
    """Emails written together, sent one after another (on one SMTP connection, kept open)."""
    return [_deliver(email_id) for email_id in email_ids]


def _deliver(email_id):
    outcome = delivery.deliver(email_id)
    if outcome.retry_at is not None:
        schedule(email_id, run_after=outcome.retry_at)
    return outcome.result


@contextmanager
def delivered_together():
    """Emails queued inside the block go out in one task, queued at its end (in the caller's
    transaction, as each would have been). For the emails of a new request: to the worker, taking up a
    task costs about as much as sending an email, and the busiest moments are many requests at once.

    Each email keeps its own lease, attempts and retries; one left unsent by a task that died is
    queued again by the reaper, as a single email would be.
    """
    email_ids: list[int] = []
    token = _together.set(email_ids)
    try:
        yield
    finally:
        _together.reset(token)
    if len(email_ids) == 1:
        schedule(email_ids[0])
    elif email_ids:
        _remember_task(send_outgoing_emails.enqueue(email_ids=email_ids), email_ids)


def schedule(email_id, *, run_after=None):
    """Queue a delivery task (inside ``delivered_together()``, at the end of the block)."""
    together = _together.get()
    if together is not None and run_after is None:
        together.append(email_id)
        return None
    task = send_outgoing_email
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The immediate backend (tests) cannot wait: the reaper queues the email when it is due.
            return None
        task = task.using(run_after=run_after)
    return _remember_task(task.enqueue(email_id=email_id), [email_id])


def _remember_task(result, email_ids):
    """Remember a queued task's id on its emails, so that the reaper does not queue a second one."""
    OutgoingEmail.objects.filter(pk__in=email_ids).update(task_id=str(result.id)[:64])
    return result


def _task_still_queued(task_id):
    if not task_id:
        return False
    try:
        # The backend's own lookup: the task may be one for several emails (``send_outgoing_emails``).
        return send_outgoing_email.get_backend().get_result(task_id).status == TaskResultStatus.READY
    except (TaskResultDoesNotExist, NotImplementedError):  # pruned since, or a backend keeping no results
        return False


def requeue_due(*, now=None):
    """The reaper: queue every email that is due, free, and has no task waiting for it — those left
    by a worker that died mid-send (their lease expired) or whose task was lost. Returns the count."""
    now = now or timezone.now()
    requeued = 0
    for email_id, task_id in OutgoingEmail.objects.claimable(now).values_list("pk", "task_id"):
        if _task_still_queued(task_id):
            continue
        schedule(email_id)
        requeued += 1
    return requeued


def send_again(email_ids, *, to=None):
    """Failed or waiting emails made due again (``delivery.reopen``), queued once the caller's
    transaction commits. Returns their ids."""
    reopened = delivery.reopen(email_ids, to=to)
    for email_id in reopened:
        transaction.on_commit(partial(schedule, email_id))
    return reopened
