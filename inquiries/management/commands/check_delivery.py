from django.core.management.base import BaseCommand, CommandError

from inquiries import delivery
from inquiries.tasks import requeue_due


class Command(BaseCommand):
    help = (
        "Re-queue emails whose worker died or whose task was lost, report late and failed emails, and "
        "alert the coordinators (failed notices to them) and ADMINS. Run it every few minutes; it exits "
        "with an error when an alert could not be sent."
    )

    def handle(self, *args, **options):
        requeued = requeue_due()
        report = delivery.report()
        self.stdout.write(
            f"Re-queued {requeued}; pending {report.pending}"
            + (f" (oldest {report.oldest_pending_minutes} min)" if report.pending else "")
            + f"; newly failed {len(report.failed)}; late {len(report.lagging)}."
        )
        if not report.needs_telling:
            return
        try:
            told = delivery.send_alerts(report)
        except delivery.AlertNotSent as error:
            raise CommandError(f"Delivery alert not sent: {error}") from None
        self.stdout.write(f"Alert sent to {len(told)} addresses.")
