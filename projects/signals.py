"""Signals other apps listen to, so this app need not import them."""

from django.dispatch import Signal

# Sent (with ``project``) when a change may move a project in or out of an SCM
# year's count: becoming ready, leaving ready, soft delete, restore.
project_readiness_changed = Signal()
