"""Who may do what to users and API tokens in the Django admin.

A matrix of the admin's user and token URLs for every role (anonymous, the
three roles without the admin, administrator, superuser) against every kind of
target user (a viewer, another administrator, a superuser, oneself). Each test
asserts the answer and, above all, the database afterwards: an administrator
manages users only within the four roles and the active flag, never grants
superuser or staff status, extra groups or permissions, never edits or sets the
password of a superuser or an administrator, and never mints another user's
API token. Superusers keep Django's full user admin.
"""

import pytest
from django.contrib.auth.models import Group, Permission, User

from rcf.models import ApiToken
from scm_reports.roles import ADMINISTRATOR, EDITOR, VIEWER

pytestmark = pytest.mark.django_db

ACTORS = ["anonymous", "viewer", "editor", "lead", "administrator", "superuser"]
TARGETS = ["viewer", "administrator", "superuser", "self"]
MATRIX = [(actor, target) for actor in ACTORS for target in TARGETS if not (actor == "anonymous" and target == "self")]
NEW_PASSWORD = "a-new-pass-phrase-2026"


def expected(actor: str, target: str) -> str:
    """What the admin lets ``actor`` do to ``target``: ``full`` (Django's whole
    user admin), ``managed`` (name, e-mail, role, active flag, password),
    ``read-only`` (may look, 403 on any change), ``login`` (no admin at all:
    sent to the admin's sign-in page)."""
    if actor == "superuser":
        return "full"
    if actor == "administrator":
        return "managed" if target == "viewer" else "read-only"
    return "login"


def _user(username, role=None, **extra):
    user = User.objects.create_user(username, f"{username}@example.org", "pw-for-tests-1", **extra)
    if role:
        user.groups.set([Group.objects.get(name=role)])
    return user


@pytest.fixture
def people(viewer, editor, lead, administrator):
    """The actors and the target users, by name."""
    return {
        "actors": {
            "anonymous": None,
            "viewer": viewer,
            "editor": editor,
            "lead": lead,
            "administrator": administrator,
            "superuser": User.objects.create_superuser("root", "root@example.org", "pw-for-tests-1"),
        },
        "targets": {
            "viewer": _user("target-viewer", VIEWER),
            "administrator": _user("other-admin", ADMINISTRATOR, is_staff=True),
            "superuser": User.objects.create_superuser("root-two", "root2@example.org", "pw-for-tests-1"),
        },
    }


@pytest.fixture
def arbitrary_group():
    """A group outside the four roles, holding power no role gives."""
    group = Group.objects.create(name="auditors")
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    return group


def _sign_in(client, people, actor_name):
    actor = people["actors"][actor_name]
    if actor is not None:
        client.force_login(actor)
    return actor


def _target(people, actor, target_name):
    return actor if target_name == "self" else people["targets"][target_name]


def snapshot(user):
    user = User.objects.get(pk=user.pk)
    return {
        "username": user.username,
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "password": user.password,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(user.user_permissions.values_list("codename", flat=True)),
    }


def _refused(response, outcome):
    if outcome == "login":
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("actor_name", "target_name"), MATRIX)
def test_change_form_never_escalates(client, people, arbitrary_group, actor_name, target_name):
    actor = _sign_in(client, people, actor_name)
    target = _target(people, actor, target_name)
    before = snapshot(target)
    escalation = {
        "username": "renamed", "first_name": "", "last_name": "", "email": "renamed@example.org",
        "is_superuser": "on", "is_staff": "on", "groups": [arbitrary_group.pk],
        "user_permissions": [Permission.objects.get(codename="delete_user").pk],
        "role": EDITOR,  # the administrators' form: one of the four roles
        # is_active left out: a checkbox not sent means "deactivate"
        "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00",  # Django's full form needs it
    }
    response = client.post(f"/admin/auth/user/{target.pk}/change/", escalation)
    outcome = expected(actor_name, target_name)
    after = snapshot(target)
    if outcome == "full":
        assert response.status_code == 302, response.content[:3000]
        assert after["is_superuser"] and after["is_staff"] and after["groups"] == ["auditors"]
    elif outcome == "managed":
        assert response.status_code == 302, response.content[:3000]
        # The role, name and active flag were taken; nothing else was.
        assert after == {**before, "username": "renamed", "is_active": False, "groups": [EDITOR]}
        assert not after["is_superuser"] and not after["is_staff"] and after["permissions"] == []
    else:
        _refused(response, outcome)
        assert after == before


@pytest.mark.parametrize(("actor_name", "target_name"), MATRIX)
def test_change_form_shows_only_what_may_be_changed(client, people, actor_name, target_name):
    actor = _sign_in(client, people, actor_name)
    target = _target(people, actor, target_name)
    response = client.get(f"/admin/auth/user/{target.pk}/change/")
    outcome = expected(actor_name, target_name)
    if outcome == "login":
        _refused(response, outcome)
        return
    assert response.status_code == 200
    page = response.content.decode()
    if outcome == "full":
        assert 'name="is_superuser"' in page and 'name="user_permissions"' in page
    elif outcome == "managed":
        assert 'name="role"' in page and 'name="is_active"' in page
        for power in ("is_superuser", "is_staff", "groups", "user_permissions"):
            assert f'name="{power}"' not in page
    else:  # read-only: shown, with no input at all
        assert target.username in page
        assert 'name="username"' not in page and 'name="is_active"' not in page


@pytest.mark.parametrize(("actor_name", "target_name"), MATRIX)
def test_password_page(client, people, actor_name, target_name):
    actor = _sign_in(client, people, actor_name)
    target = _target(people, actor, target_name)
    before = snapshot(target)
    url = f"/admin/auth/user/{target.pk}/password/"
    outcome = expected(actor_name, target_name)
    get = client.get(url)
    post = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    if outcome in ("full", "managed"):
        assert get.status_code == 200
        assert post.status_code == 302, post.content[:3000]
        assert User.objects.get(pk=target.pk).check_password(NEW_PASSWORD)
    else:
        _refused(get, outcome)
        _refused(post, outcome)
        assert snapshot(target) == before


def test_administrators_change_their_own_password_on_the_normal_page(client, administrator):
    client.force_login(administrator)
    response = client.post("/accounts/password_change/", {
        "old_password": "pw-for-tests-1", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302, response.content[:3000]
    assert User.objects.get(pk=administrator.pk).check_password(NEW_PASSWORD)


@pytest.mark.parametrize("actor_name", ACTORS)
def test_add_form_never_makes_a_superuser(client, people, arbitrary_group, actor_name):
    _sign_in(client, people, actor_name)
    response = client.post("/admin/auth/user/add/", {
        "username": "mallory", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "role": VIEWER, "is_superuser": "on", "is_staff": "on", "groups": [arbitrary_group.pk],
        "user_permissions": [Permission.objects.get(codename="delete_user").pk],
    })
    outcome = expected(actor_name, "viewer")
    if outcome == "login":
        _refused(response, outcome)
        assert not User.objects.filter(username="mallory").exists()
        return
    assert response.status_code == 302, response.content[:3000]
    made = snapshot(User.objects.get(username="mallory"))
    assert (made["is_superuser"], made["is_staff"], made["groups"], made["permissions"]) == (False, False, [VIEWER], [])


def test_an_administrator_may_make_an_administrator_who_is_then_out_of_reach(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/auth/user/add/", {
        "username": "new-admin", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "role": ADMINISTRATOR,
    })
    assert response.status_code == 302, response.content[:3000]
    made = User.objects.get(username="new-admin")
    assert snapshot(made)["groups"] == [ADMINISTRATOR] and made.is_staff and not made.is_superuser
    assert client.post(f"/admin/auth/user/{made.pk}/password/",
                       {"password1": "x-" + NEW_PASSWORD, "password2": "x-" + NEW_PASSWORD}).status_code == 403


def test_a_role_outside_the_four_is_refused_with_a_message(client, people, arbitrary_group):
    _sign_in(client, people, "administrator")
    target = people["targets"]["viewer"]
    before = snapshot(target)
    response = client.post(f"/admin/auth/user/{target.pk}/change/",
                           {"username": target.username, "role": "auditors", "is_active": "on"})
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert snapshot(target) == before


@pytest.mark.parametrize(("actor_name", "target_name"), MATRIX)
def test_api_tokens_are_made_for_their_owner_only(client, people, actor_name, target_name):
    actor = _sign_in(client, people, actor_name)
    target = _target(people, actor, target_name)
    response = client.post("/admin/rcf/apitoken/add/", {"user": target.pk, "name": "stolen", "read_only": ""})
    outcome = expected(actor_name, target_name)
    if outcome == "login":
        _refused(response, outcome)
        assert not ApiToken.objects.exists()
        return
    # Administrators and superusers may add tokens - for themselves, whatever the POST names.
    assert response.status_code == 302, response.content[:3000]
    assert list(ApiToken.objects.values_list("user__username", "name")) == [(actor.username, "stolen")]


@pytest.mark.parametrize(("actor_name", "target_name"), MATRIX)
def test_delete(client, people, actor_name, target_name):
    actor = _sign_in(client, people, actor_name)
    target = _target(people, actor, target_name)
    response = client.post(f"/admin/auth/user/{target.pk}/delete/", {"post": "yes"})
    outcome = expected(actor_name, target_name)
    if outcome == "full":
        assert response.status_code == 302
        assert not User.objects.filter(pk=target.pk).exists()
    else:
        # Administrators hold no delete permission for users: they deactivate instead.
        _refused(response, "login" if outcome == "login" else "read-only")
        assert User.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("actor_name", ["administrator", "superuser"])
def test_bulk_delete_spares_whom_the_actor_may_not_delete(client, people, actor_name):
    actor = _sign_in(client, people, actor_name)
    targets = [*people["targets"].values(), actor]
    listing = client.get("/admin/auth/user/")
    assert listing.status_code == 200 and "target-viewer" in listing.content.decode()
    client.post("/admin/auth/user/", {"action": "delete_selected", "post": "yes",
                                      "_selected_action": [user.pk for user in targets]})
    remaining = set(User.objects.filter(pk__in=[user.pk for user in targets]).values_list("username", flat=True))
    if actor_name == "administrator":
        assert remaining == {user.username for user in targets}
    else:
        assert remaining == set()


def test_an_administrator_lists_and_revokes_anyones_token(client, administrator, lead):
    token, _key = ApiToken.issue(user=lead, name="KIDA mirror")
    client.force_login(administrator)
    assert "KIDA mirror" in client.get("/admin/rcf/apitoken/").content.decode()
    assert client.post(f"/admin/rcf/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
