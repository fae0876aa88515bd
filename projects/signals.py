"""Signals other apps listen to, so this app need not import them."""

from django.dispatch import Signal

# Sent (with ``project``) when a change may move a project in or out of an SCM
# year's count: becoming ready, leaving ready, soft delete, restore. Sent
# inside the change's transaction, so a receiver can record follow-up work
# (an outbox row) that commits or rolls back with the change.
project_readiness_changed = Signal()
