"""Staff pages for action items (``/actions/``). Thin: every write calls
projects.services, every read comes from projects.selectors."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from rcf.selectors import framework_today
from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors, render_filtered_list, save_with_version_check

from . import selectors, services
from .action_filters import ActionFilter
from .action_forms import ActionForm
from .models import ActionItem, CooperativeProject, Engagement


def _next_url(request, default: str) -> str:
    """Where to go back to: the ``next`` the page sent, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _get_action(pk) -> ActionItem:
    try:
        return selectors.action_list(today=framework_today()).get(pk=pk)
    except ActionItem.DoesNotExist:
        raise Http404(_("No such action.")) from None


def _row_context(request, action, **extra) -> dict:
    today = framework_today()
    action.is_overdue = action.status == "open" and action.due_on < today
    return {"action": action, "can_change": request.user.has_perm("projects.change_actionitem"),
            "next": request.POST.get("next") or request.get_full_path(), **extra}


class ActionListView(StaffView):
    """Mine by default (the signed-in user's POC, open actions), overdue first."""

    permission_required = "projects.view_actionitem"
    paginate_by = 25

    def get(self, request):
        me = selectors.poc_of_user(request.user)
        data = request.GET.copy()
        # Defaults the filter form shows: "mine" and "open"; choosing "Anyone" / "Any status" sends them empty.
        if "owner" not in data and me is not None:
            data["owner"] = str(me.pk)
        if "status" not in data:
            data["status"] = "open"
        filterset = ActionFilter(data, queryset=selectors.action_list(today=framework_today()))
        queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        from rcf.list_filters import filter_bar, filter_chips

        keep = ("owner", "status")  # left out, they mean "mine" and "open": removing one sends it empty
        chips = filter_chips(filterset, data, keep_empty=keep)
        return render_filtered_list(
            request, filterset=filterset, queryset=queryset, name="actions", per_page=self.paginate_by,
            query=data, page_template="projects/actions/action_list.html",
            results_template="projects/actions/_results.html",
            me=me, mine=me is not None and data.get("owner") == str(me.pk),
            can_change=request.user.has_perm("projects.change_actionitem"), next=request.get_full_path(),
            chips=chips, **filter_bar(filterset, chips, data, ("owner", "status"),
                                      ("side", "project", "due_after", "due_before"), keep_empty=keep))


class ActionDoneView(StaffView):
    """One click "Done": version-checked. With htmx the answer is the row
    (409 and the row as it is now when the action changed since the page was
    read); without JavaScript, back to the page with a message."""

    permission_required = "projects.change_actionitem"

    def post(self, request, pk):
        action = _get_action(pk)
        version = request.POST.get("version", "")
        expected = int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None
        status, problem = 200, ""
        try:
            services.action_mark_done(action=action, by=request.user, expected_version=expected,
                                      today=framework_today())
        except VersionConflict:
            status = 409
            problem = _("Someone else changed this action after you opened the page; nothing was done. Here it "
                        "is as it is now.")
        except ValidationError as error:
            status = 400
            problem = " ".join(m for ms in error.message_dict.values() for m in ms) if hasattr(error, "error_dict") \
                else " ".join(error.messages)
        if request.htmx:
            if not problem:  # a toast (rcf.middleware.HtmxMessagesMiddleware)
                messages.success(request, _("“%(title)s” is done.") % {"title": action.title})
            return render(request, "projects/actions/_row.html",
                          _row_context(request, _get_action(pk), problem=problem,
                                       layout=request.POST.get("layout", "")), status=status)
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, _("“%(title)s” is done.") % {"title": action.title})
        return redirect(_next_url(request, reverse("actions:list")))


class ActionCreateView(StaffView):
    """``/actions/new/``, optionally ``?project=<id>`` or ``?engagement=<id>`` to fill those in."""

    permission_required = "projects.add_actionitem"

    def _initial(self, request) -> dict:
        initial = {}
        me = selectors.poc_of_user(request.user)
        if me is not None and me.active:
            initial["owner"] = me.pk
        for name, model in (("project", CooperativeProject), ("engagement", Engagement)):
            value = request.GET.get(name, "")
            if value.isascii() and value.isdigit() and len(value) < 19 and model.objects.filter(pk=value).exists():
                initial[name] = int(value)
        if "engagement" in initial and "project" not in initial:
            projects = list(Engagement.objects.get(pk=initial["engagement"]).projects.values_list("pk", flat=True)[:2])
            if len(projects) == 1:
                initial["project"] = projects[0]
        return initial

    def get(self, request):
        return self.page(request, ActionForm(initial=self._initial(request)))

    def post(self, request):
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                action = services.action_create(by=request.user, **form.service_data())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Action “%(title)s” added.") % {"title": action.title})
                return redirect(_next_url(request, reverse("actions:list")))
        return self.page(request, form, status=400)

    def page(self, request, form, status=200):
        return render(request, "projects/actions/action_form.html",
                      {"form": form, "title": _("Add an action"), "next": _next_url(request, ""),
                       "cancel_url": _next_url(request, reverse("actions:list"))}, status=status)


class ActionUpdateView(StaffView):
    permission_required = "projects.change_actionitem"

    def get(self, request, pk):
        action = _get_action(pk)
        return self.page(request, ActionForm(instance=action), action)

    def post(self, request, pk):
        action = _get_action(pk)
        form = ActionForm(request.POST, instance=action)
        status = 400
        if form.is_valid():
            expected = form.cleaned_data.get("version") or action.version
            saved, conflict = save_with_version_check(form, lambda: services.action_update(
                action=ActionItem.objects.get(pk=pk), by=request.user, expected_version=expected,
                **form.service_data()), conflict_message=_(
                    "Someone else changed this action after you opened it. Nothing was saved; save again to apply "
                    "your changes over theirs."))
            if saved:
                messages.success(request, _("Action saved."))
                return redirect(_next_url(request, reverse("actions:list")))
            if conflict:
                status = 409
        return self.page(request, form, _get_action(pk), status=status)

    def page(self, request, form, action, status=200):
        return render(request, "projects/actions/action_form.html", {
            "form": form, "action": action, "title": _("Edit the action “%(title)s”") % {"title": action.title},
            "next": _next_url(request, ""), "cancel_url": _next_url(request, reverse("actions:list")),
            "can_delete": request.user.has_perm("projects.delete_actionitem"),
        }, status=status)


class ActionDeleteView(StaffView):
    permission_required = "projects.delete_actionitem"

    def get(self, request, pk):
        return render(request, "projects/actions/action_confirm_delete.html", {
            "action": _get_action(pk), "next": _next_url(request, ""),
            "cancel_url": _next_url(request, reverse("actions:list"))})

    def post(self, request, pk):
        action = _get_action(pk)
        version = request.POST.get("version", "")
        try:
            expected = int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None
            services.action_delete(action=action, by=request.user, expected_version=expected)
        except VersionConflict:
            messages.error(request, _("Someone else changed this action after you opened it; it was not deleted. "
                                      "Check it and try again."))
            return redirect("actions:edit", pk=pk)
        messages.success(request, _("Action “%(title)s” deleted. An administrator can restore it.") % {
            "title": action.title})
        target = _next_url(request, reverse("actions:list"))
        if target.rstrip("/").endswith(f"/actions/{pk}/edit"):
            target = reverse("actions:list")
        return redirect(target)
