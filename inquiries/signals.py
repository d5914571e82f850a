from django.dispatch import Signal

# Sent inside the erasure's transaction (``inquiries.services.inquiry_anonymise``), with the inquiry as
# ``instance``: apps holding data about the inquiry erase theirs too, or the erasure rolls back.
inquiry_erasing = Signal()
