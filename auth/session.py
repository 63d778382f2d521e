"""The principal of the current web request.

Until accounts exist every request is anonymous: deny by default. Every
callback and route calls `current_principal()` and passes the result into
the services; none of them reads the request to decide rights itself.
"""
from __future__ import annotations

from auth.permissions import ANONYMOUS, Principal


def current_principal() -> Principal:
    return ANONYMOUS
