import logging
import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from operations.worker import ResilientWorker, WorkerProcesses


class QuietBatches(logging.Filter):
    """Our worker runs the library's loop one batch at a time: its start and end lines are noise."""

    def filter(self, record):
        return not str(record.msg).startswith(("Starting worker", "No more tasks to run"))


class Command(db_worker.Command):
    help = (
        "Run the background worker (emails). It survives database outages, backing off and "
        "reconnecting, and writes a heartbeat that /healthz/ready checks. Run it under a supervisor."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Worker processes to run, for a busy queue: each takes its own tasks (default: 1)",
        )

    def configure_logging(self, verbosity):
        super().configure_logging(verbosity)
        logging.getLogger("django_tasks_db").addFilter(QuietBatches())

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        processes,
        **options,
    ):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        if exclude_queues and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker_kwargs = {
            "queue_names": queue_names,
            "interval": interval,
            "batch": batch,
            "backend_name": backend_name,
            "startup_delay": startup_delay,
            "max_tasks": max_tasks,
            "worker_id": worker_id,
            "excluded_queue_names": exclude_queues.split(",") if exclude_queues else [],
        }
        if processes < 1:
            raise CommandError("--processes must be 1 or more")
        if processes > 1:
            if batch or max_tasks:
                raise CommandError("--batch and --max-tasks are for a single process")
            WorkerProcesses(processes, worker_kwargs).run()
            return
        worker = ResilientWorker(**worker_kwargs)
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
