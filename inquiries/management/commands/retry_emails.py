from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from inquiries.models import EmailStatus, OutgoingEmail
from inquiries.tasks import send_outgoing_email


class Command(BaseCommand):
    help = "Queue again the emails still pending after a while (e.g. after the worker was down)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=30)

    def handle(self, *args, older_than_minutes, **options):
        cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
        pending = OutgoingEmail.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff)
        count = 0
        for email_id in pending.values_list("pk", flat=True):
            send_outgoing_email.enqueue(email_id=email_id)
            count += 1
        self.stdout.write(f"Queued {count} pending emails.")
