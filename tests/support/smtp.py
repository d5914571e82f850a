"""A real SMTP server on a free port that a test can make refuse, defer, stall or disappear."""

import asyncio
import email
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


@dataclass
class Received:
    recipients: list
    message_id: str
    subject: str


@dataclass
class Behaviour:
    refuse_recipients: dict = field(default_factory=dict)  # address -> "550 5.1.1 <address>: no such user"
    defer_everything: str = ""  # e.g. "451 4.3.0 try again later"
    refuse_data_for: dict = field(default_factory=dict)  # address -> reply to DATA, e.g. "554 5.7.1 spam"
    stall_after_data: threading.Event | None = None  # keeps the message, holds back the 250 until set


class Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp_server, session, envelope, address, options):
        behaviour = self.server.behaviour
        if behaviour.defer_everything:
            return behaviour.defer_everything
        if address in behaviour.refuse_recipients:
            return behaviour.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp_server, session, envelope):
        for address in envelope.rcpt_tos:
            if address in self.server.behaviour.refuse_data_for:
                return self.server.behaviour.refuse_data_for[address]
        message = email.message_from_bytes(envelope.content)
        self.server.record(
            Received(list(envelope.rcpt_tos), message["Message-ID"] or "", str(message["Subject"] or ""))
        )
        stall = self.server.behaviour.stall_after_data
        if stall is not None:
            self.server.stalled.set()
            while not stall.is_set():  # the worker may be killed meanwhile
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.behaviour = Behaviour()
        self.received = []
        self.stalled = threading.Event()
        self._lock = threading.Lock()
        self.controller = None

    def record(self, message):
        with self._lock:
            self.received.append(message)

    def start(self):
        self.controller = Controller(Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            if self.behaviour.stall_after_data is not None:
                self.behaviour.stall_after_data.set()
            self.controller.stop()
            self.controller = None

    def to(self, address):
        return [message for message in self.received if address in message.recipients]

    def settings(self):
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_TIMEOUT": 5,
        }
