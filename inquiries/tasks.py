"""Background tasks. Delivery itself, with its leases and retries, is in ``inquiries.delivery``."""

from django_tasks import task


@task()
def send_outgoing_email(*, email_id):
    from inquiries.delivery import deliver

    return deliver(email_id)
