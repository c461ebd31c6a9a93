"""What training announces. certification listens; training never imports it."""

from django.dispatch import Signal

# Sent after commit when attendance changes: session_id, enrolment_ids.
attendance_changed = Signal()
