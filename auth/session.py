"""The principal of the current web request.

Every callback and route calls `current_principal()` and passes the result into
the services; none of them reads the request to decide rights itself. Outside
a request, or for a visitor who is not logged in, it is the anonymous public:
deny by default.
"""
from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from auth.permissions import ANONYMOUS, Principal


def current_principal() -> Principal:
    if not has_request_context():
        return ANONYMOUS
    bearer = g.get("bearer_principal")
    if bearer is not None:  # set by auth.login._bearer_auth for `Authorization: Bearer` requests
        return bearer
    user = current_user._get_current_object() if current_user else None
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return user.principal()
