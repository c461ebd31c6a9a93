from members.permissions import user_roles


def roles(request) -> dict:
    """The signed-in user's roles, for the navigation."""
    return {"user_roles": [role.value for role in user_roles(request.user)]}
