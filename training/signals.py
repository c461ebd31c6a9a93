"""What training announces. certification listens; training never imports it."""

from django.dispatch import Signal

# Sent after commit when something that counts towards completion changes (an attendance
# record or a mark), with `enrolment_ids` (a list) and `cause` ("attendance" or "mark").
standing_changed = Signal()
