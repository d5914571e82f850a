from django.core.management.base import BaseCommand, CommandError

from inquiries import delivery


class Command(BaseCommand):
    help = (
        "Re-queue emails whose worker died or whose task was lost, report lagging and failed emails, "
        "and alert the coordinators (failed notices to them) and ADMINS. Run it every few minutes."
    )

    def handle(self, *args, **options):
        report = delivery.check()
        self.stdout.write(
            f"Re-queued {report.requeued}; pending {report.pending}"
            + (f" (oldest {report.oldest_pending_minutes} min)" if report.pending else "")
            + f"; newly failed {len(report.failed)}; lagging {len(report.lagging)}."
        )
        if not (report.failed or report.lagging):
            return
        try:
            told = delivery.send_alerts(report)
        except Exception as error:
            raise CommandError(f"Could not send the delivery alert: {type(error).__name__}") from error
        if told:
            self.stdout.write(f"Alert sent to {len(told)} addresses.")
        else:
            raise CommandError("Delivery problems and nobody to tell: set ADMINS.")
