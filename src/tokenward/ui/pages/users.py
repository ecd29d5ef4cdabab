"""Users and groups of the local directory, for administrators (SPEC P1).

Every change goes through `DirectoryService`, which checks the permission and
writes the audit record; a form that breaks a rule is shown again as typed, with
the reason next to it.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tokenward.directory.errors import UserNotFoundError
from tokenward.directory.models import User
from tokenward.errors import InvalidInputError
from tokenward.policies.permissions import Permission
from tokenward.ui.pages.base import Visit, page

ADMIN = Permission.ADMINISTER
PAGE_SIZE = 50
_NOTICES = {
    "created": "The user is created.",
    "updated": "The details are saved.",
    "password": "The password is set. Tell the user through a channel you trust.",
    "groups": "The group membership is saved.",
    "group_created": "The group is created.",
    "member_added": "The member is added.",
    "member_removed": "The member is removed.",
    "group_deleted": "The group is deleted.",
}


def user_path(username: str) -> str:
    return f"/users/{quote(username, safe='')}"


def group_path(name: str) -> str:
    return f"/groups/{quote(name, safe='')}"


def _password(visit: Visit, name: str) -> str:
    """A password field exactly as typed: spaces count."""
    value = visit.form.get(name)

    return value if isinstance(value, str) else ""


@page(needs=ADMIN)
async def list_users(visit: Visit) -> Response:
    return await _users_page(visit)


async def _users_page(
    visit: Visit, typed: dict[str, str] | None = None, problem: str = ""
) -> Response:
    search = visit.request.query_params.get("search", "").strip()
    try:
        offset = max(0, int(visit.request.query_params.get("offset", "0")))
    except ValueError:
        offset = 0
    users, total = await visit.services.directory.list_users(
        visit.person.actor, search=search or None, limit=PAGE_SIZE, offset=offset
    )

    def page_link(start: int) -> str:
        return "/users?" + urlencode({"search": search, "offset": start})

    return visit.render(
        "users/list.html",
        status=422 if problem else 200,
        notices=_NOTICES,
        users=users,
        total=total,
        search=search,
        offset=offset,
        previous=page_link(max(0, offset - PAGE_SIZE)) if offset else None,
        following=page_link(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
        typed=typed or {},
        problem=problem,
        user_path=user_path,
    )


@page(needs=ADMIN)
async def create_user(visit: Visit) -> Response:
    typed = {name: visit.value(name) for name in ("username", "display_name", "email")}
    password = _password(visit, "password")
    try:
        user = await visit.services.directory.create_user(
            visit.person.actor,
            visit.origin,
            **typed,
            password=password or None,
        )
    except InvalidInputError as error:
        return await _users_page(visit, typed, error.message)

    return visit.redirect(user_path(user.username), done="created")


@page(needs=ADMIN)
async def show_user(visit: Visit) -> Response:
    return await _user_page(visit, visit.request.path_params["username"])


async def _user_page(
    visit: Visit,
    username: str,
    *,
    typed: dict[str, str] | None = None,
    failed: str = "",
    problem: str = "",
) -> Response:
    """The user's page; `failed` names the form (details, password, groups) that
    was refused for `problem`, and `typed` is what was typed into the details."""
    actor = visit.person.actor
    user = await visit.services.directory.get_user(actor, username)
    groups = await visit.services.directory.list_groups(actor)
    typed = typed or {
        "display_name": user.display_name,
        "email": user.email,
        "active": "yes" if user.active else "",
    }

    return visit.render(
        "users/user.html",
        status=422 if problem else 200,
        notices=_NOTICES,
        user=user,
        member_of={group.name for group in user.groups},
        groups=[group.name for group in groups],
        typed=typed,
        failed=failed,
        problem=problem,
        here=user_path(user.username),
        group_path=group_path,
    )


@page(needs=ADMIN)
async def update_user(visit: Visit) -> Response:
    username = visit.request.path_params["username"]
    typed = {
        "display_name": visit.value("display_name"),
        "email": visit.value("email"),
        "active": visit.value("active"),
    }
    try:
        await visit.services.directory.update_user(
            visit.person.actor,
            visit.origin,
            username,
            display_name=typed["display_name"],
            email=typed["email"],
            active=typed["active"] == "yes",
        )
    except InvalidInputError as error:
        return await _user_page(
            visit, username, typed=typed, failed="details", problem=error.message
        )

    return visit.redirect(user_path(username), done="updated")


@page(needs=ADMIN)
async def set_password(visit: Visit) -> Response:
    username = visit.request.path_params["username"]
    password = _password(visit, "password")
    if password != _password(visit, "password_again"):
        return await _user_page(
            visit, username, failed="password", problem="the two passwords differ"
        )
    try:
        await visit.services.directory.set_password(
            visit.person.actor, visit.origin, username, password
        )
    except InvalidInputError as error:
        return await _user_page(
            visit, username, failed="password", problem=error.message
        )

    return visit.redirect(user_path(username), done="password")


@page(needs=ADMIN)
async def set_groups(visit: Visit) -> Response:
    """Make the user a member of exactly the groups ticked."""
    username = visit.request.path_params["username"]
    directory, actor = visit.services.directory, visit.person.actor
    user: User = await directory.get_user(actor, username)
    wanted = set(visit.values("groups"))
    held = {group.name for group in user.groups}
    try:
        for name in sorted(wanted - held):
            await directory.add_member(actor, visit.origin, name, username)
        for name in sorted(held - wanted):
            await directory.remove_member(actor, visit.origin, name, username)
    except InvalidInputError as error:
        return await _user_page(visit, username, failed="groups", problem=error.message)

    return visit.redirect(user_path(username), done="groups")


@page(needs=ADMIN)
async def list_groups(visit: Visit) -> Response:
    return await _groups_page(visit)


async def _groups_page(
    visit: Visit, typed: dict[str, str] | None = None, problem: str = ""
) -> Response:
    groups = await visit.services.directory.list_groups(visit.person.actor)

    return visit.render(
        "users/groups.html",
        status=422 if problem else 200,
        notices=_NOTICES,
        groups=groups,
        typed=typed or {},
        problem=problem,
        group_path=group_path,
    )


@page(needs=ADMIN)
async def create_group(visit: Visit) -> Response:
    typed = {"name": visit.value("name"), "description": visit.value("description")}
    try:
        group = await visit.services.directory.create_group(
            visit.person.actor, visit.origin, **typed
        )
    except InvalidInputError as error:
        return await _groups_page(visit, typed, error.message)

    return visit.redirect(group_path(group.name), done="group_created")


@page(needs=ADMIN)
async def show_group(visit: Visit) -> Response:
    return await _group_page(visit, visit.request.path_params["name"])


async def _group_page(
    visit: Visit,
    name: str,
    *,
    template: str = "users/group.html",
    status: int = 200,
    typed: str = "",
    problem: str = "",
) -> Response:
    actor = visit.person.actor
    group = await visit.services.directory.get_group(actor, name)
    grants = await visit.services.permissions.grants(actor)

    return visit.render(
        template,
        status=status,
        notices=_NOTICES,
        group=group,
        members=sorted(group.members, key=lambda user: user.username),
        holds=[p for p, (_everyone, names) in grants.items() if name in names],
        typed=typed,
        problem=problem,
        here=group_path(group.name),
        user_path=user_path,
    )


@page(needs=ADMIN)
async def add_member(visit: Visit) -> Response:
    name = visit.request.path_params["name"]
    username = visit.value("username")
    if not username:
        return await _group_page(
            visit, name, status=422, problem="name the user to add"
        )
    try:
        await visit.services.directory.add_member(
            visit.person.actor, visit.origin, name, username
        )
    except (InvalidInputError, UserNotFoundError) as error:
        return await _group_page(
            visit, name, status=422, typed=username, problem=error.message
        )

    return visit.redirect(group_path(name), done="member_added")


@page(needs=ADMIN)
async def remove_member(visit: Visit) -> Response:
    name = visit.request.path_params["name"]
    await visit.services.directory.remove_member(
        visit.person.actor, visit.origin, name, visit.value("username")
    )

    return visit.redirect(group_path(name), done="member_removed")


@page(needs=ADMIN)
async def confirm_delete(visit: Visit) -> Response:
    """What deleting a group would drop, asked before it is done."""
    return await _group_page(
        visit, visit.request.path_params["name"], template="users/delete_group.html"
    )


@page(needs=ADMIN)
async def delete_group(visit: Visit) -> Response:
    name = visit.request.path_params["name"]
    try:
        await visit.services.directory.delete_group(
            visit.person.actor, visit.origin, name
        )
    except InvalidInputError as error:
        return await _group_page(
            visit,
            name,
            template="users/delete_group.html",
            status=422,
            problem=error.message,
        )

    return visit.redirect("/groups", done="group_deleted")


routes: list[BaseRoute] = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/{username}", show_user, methods=["GET"]),
    Route("/users/{username}", update_user, methods=["POST"]),
    Route("/users/{username}/password", set_password, methods=["POST"]),
    Route("/users/{username}/groups", set_groups, methods=["POST"]),
    Route("/groups", list_groups, methods=["GET"]),
    Route("/groups", create_group, methods=["POST"]),
    Route("/groups/{name}", show_group, methods=["GET"]),
    Route("/groups/{name}/members", add_member, methods=["POST"]),
    Route("/groups/{name}/members/remove", remove_member, methods=["POST"]),
    Route("/groups/{name}/delete", confirm_delete, methods=["GET"]),
    Route("/groups/{name}/delete", delete_group, methods=["POST"]),
]
