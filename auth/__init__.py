"""Users, roles and the permission checks every callback and route calls."""
from auth.permissions import ANONYMOUS, Principal
from auth.session import current_principal

__all__ = ["ANONYMOUS", "Principal", "current_principal"]
