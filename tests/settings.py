"""Harbour's settings with the test environment: fixed keys and a fast password hasher."""

import os

os.environ.setdefault("HARBOUR_ENV", "test")
# Keys for tests only; fixed so failures are reproducible.
os.environ.setdefault(
    "HARBOUR_PSEUDONYM_KEYS", "t1:dGVzdC1wc2V1ZG9ueW0ta2V5LW9mLWF0LWxlYXN0LTMyLWJ5dGVz"
)
os.environ.setdefault("HARBOUR_FIELD_KEYS", "f1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from harbour.settings import *  # noqa: F403
