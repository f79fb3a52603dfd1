from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.notify import admin_services, outbox, selectors
from gongkai.notify.forms import (
    DeliveryFilterForm,
    EndpointForm,
    PreferenceForm,
    RobotAddForm,
    RobotEditForm,
)
from gongkai.notify.models import Delivery
from gongkai.notify.services import notifications_mark_read
from gongkai.policy.rules import Action, require

ROBOTS_PER_PAGE = 50
DELIVERIES_PER_PAGE = 50
FAILURES_PER_PAGE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notes = signed_in_user(request).notifications.all()
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    return render(request, "notify/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=signed_in_user(request))
    return redirect("notifications:list")


# --- A person's own preferences -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    pref = outbox.preference_of(user)
    initial = {
        "email": pref.email,
        "timing": pref.timing,
        "board_news": pref.board_news,
        "quiet_from": pref.quiet_from,
        "quiet_until": pref.quiet_until,
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            admin_services.preference_save(actor=user, **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Your notice preferences are saved."))
            return redirect("notifications:preferences")
    context = {
        "form": form,
        "address": user.email,
        "site_sends_email": settings.EMAIL_NOTIFICATIONS,
        "deliveries": selectors.own_deliveries(user),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "notify/preferences.html", context, status=status)


# --- The union office: chat robots ----------------------------------------------------------


@login_required
@require_safe
def robot_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.NOTICE_MANAGE)
    page = Paginator(selectors.robots_for(request.user), ROBOTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [selectors.robot_row(r) for r in page.object_list],
        "may_see_failures": selectors.may_see_failures(request.user),
    }
    return render(request, "notify/robots.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def robot_add(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.NOTICE_MANAGE)
    user = signed_in_user(request)
    form = RobotAddForm(request.POST or None, units=selectors.manageable_units(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            robot = admin_services.robot_create(
                actor=user,
                unit=data["unit"],
                name=data["name"],
                platform=data["platform"],
                address=data["address"],
                secret=data["secret"],
                relay=data["relay"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("The robot “%(name)s” is added and enabled. Send it a test message to check it.")
                % {"name": robot.name},
            )
            return redirect("notifications:robots")
    status = 400 if request.method == "POST" else 200
    return render(request, "notify/robot_form.html", {"form": form, "robot": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def robot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    robot = selectors.robot_for(request.user, pk)
    form = RobotEditForm.for_robot(robot, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            admin_services.robot_update(
                actor=signed_in_user(request),
                robot=robot,
                name=data["name"],
                platform=data["platform"],
                address=data["address"],
                secret=data["secret"],
                clear_secret=data["clear_secret"],
                relay=data["relay"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The robot is changed."))
            return redirect("notifications:robots")
    context = {"form": form, "robot": robot, "row": selectors.robot_row(robot)}
    status = 400 if request.method == "POST" else 200
    return render(request, "notify/robot_form.html", context, status=status)


@login_required
@require_POST
def robot_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    robot = selectors.robot_for(request.user, pk)
    enable = request.POST.get("enabled") == "1"
    try:
        admin_services.robot_set_enabled(actor=signed_in_user(request), robot=robot, enabled=enable)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            (_("“%(name)s” is enabled.") if enable else _("“%(name)s” is disabled."))
            % {"name": robot.name},
        )
    return redirect("notifications:robots")


@login_required
@require_http_methods(["GET", "POST"])
def robot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    robot = selectors.robot_for(request.user, pk)
    if request.method == "POST":
        try:
            admin_services.robot_delete(actor=signed_in_user(request), robot=robot)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("“%(name)s” is deleted.") % {"name": robot.name})
        return redirect("notifications:robots")
    context = {"robot": robot, "deliveries": robot.deliveries.count()}
    return render(request, "notify/robot_delete.html", context)


@login_required
@require_POST
def robot_test(request: HttpRequest, pk: int) -> HttpResponse:
    robot = selectors.robot_for(request.user, pk)
    try:
        delivery = admin_services.robot_test(actor=signed_in_user(request), robot=robot)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("notifications:robots")
    messages.success(
        request,
        _("A test message to “%(name)s” is on its way. Its result is shown here.")
        % {"name": robot.name},
    )
    return redirect("notifications:delivery", pk=delivery.pk)


# --- The union office: outbound event endpoints ---------------------------------------------


@login_required
@require_safe
def endpoint_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EVENTS_MANAGE)
    page = Paginator(selectors.endpoints_for(request.user), ROBOTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [selectors.endpoint_row(e) for e in page.object_list],
        "may_see_failures": selectors.may_see_failures(request.user),
    }
    return render(request, "notify/endpoints.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_add(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EVENTS_MANAGE)
    user = signed_in_user(request)
    form = EndpointForm(request.POST or None, units=selectors.event_units(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = admin_services.endpoint_create(
                actor=user,
                name=data["name"],
                units=list(data["units"]),
                events=list(data["events"]),
                sees_internal=data["sees_internal"],
                address=data["address"],
                secret=data["secret"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("The endpoint “%(name)s” is added and enabled. Send it a test event to check it.")
                % {"name": endpoint.name},
            )
            return redirect("notifications:endpoints")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "endpoint": None}
    return render(request, "notify/endpoint_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for(request.user, pk)
    user = signed_in_user(request)
    form = EndpointForm(request.POST or None, units=selectors.event_units(user), endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            admin_services.endpoint_update(
                actor=user,
                endpoint=endpoint,
                name=data["name"],
                units=list(data["units"]),
                events=list(data["events"]),
                sees_internal=data["sees_internal"],
                address=data["address"],
                secret=data["secret"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The endpoint is changed."))
            return redirect("notifications:endpoints")
    context = {"form": form, "endpoint": endpoint, "row": selectors.endpoint_row(endpoint)}
    status = 400 if request.method == "POST" else 200
    return render(request, "notify/endpoint_form.html", context, status=status)


@login_required
@require_POST
def endpoint_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for(request.user, pk)
    enable = request.POST.get("enabled") == "1"
    try:
        admin_services.endpoint_set_enabled(
            actor=signed_in_user(request), endpoint=endpoint, enabled=enable
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            (_("“%(name)s” is enabled.") if enable else _("“%(name)s” is disabled."))
            % {"name": endpoint.name},
        )
    return redirect("notifications:endpoints")


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for(request.user, pk)
    if request.method == "POST":
        try:
            admin_services.endpoint_delete(actor=signed_in_user(request), endpoint=endpoint)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("“%(name)s” is deleted.") % {"name": endpoint.name})
        return redirect("notifications:endpoints")
    context = {"endpoint": endpoint, "deliveries": endpoint.deliveries.count()}
    return render(request, "notify/endpoint_delete.html", context)


@login_required
@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for(request.user, pk)
    try:
        delivery = admin_services.endpoint_test(actor=signed_in_user(request), endpoint=endpoint)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("notifications:endpoints")
    messages.success(
        request,
        _("A test event to “%(name)s” is on its way. Its result is shown here.")
        % {"name": endpoint.name},
    )
    return redirect("notifications:delivery", pk=delivery.pk)


# --- The union office: the delivery log and failed tasks ------------------------------------


def moment(value: Any) -> datetime | str:
    """An attempt's time from the log (ISO text) as a local time, or as it was written."""
    try:
        return timezone.localtime(datetime.fromisoformat(str(value)))
    except (TypeError, ValueError):
        return str(value or "")


def event_body(delivery: Delivery) -> str:
    """An event delivery's JSON, indented for reading (what was signed is the compact one);
    empty for other deliveries."""
    if delivery.channel != Delivery.Channel.EVENT:
        return ""
    try:
        return json.dumps(json.loads(delivery.body), ensure_ascii=False, indent=2)
    except ValueError:
        return delivery.body


@login_required
@require_safe
def delivery_list(request: HttpRequest) -> HttpResponse:
    if not selectors.may_see_deliveries(request.user):
        raise PermissionDenied
    robots = list(selectors.robots_for(request.user))
    endpoints = list(selectors.endpoints_for(request.user))
    form = DeliveryFilterForm(request.GET or None, robots=robots, endpoints=endpoints)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    rows = selectors.deliveries_for(
        request.user,
        status=filters.get("status") or "",
        channel=filters.get("channel") or "",
        robot=filters.get("robot"),
        endpoint=filters.get("endpoint"),
    )
    page = Paginator(rows, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": [(d, selectors.scrub(d.last_error)) for d in page.object_list],
        "filtered": any(filters.values()),
        "may_see_failures": selectors.may_see_failures(request.user),
    }
    return render(request, "notify/deliveries.html", context)


@login_required
@require_safe
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_for(request.user, pk)
    attempts = [
        (moment(entry.get("at")), selectors.scrub(str(entry.get("result", ""))))
        for entry in (delivery.log if isinstance(delivery.log, list) else [])
        if isinstance(entry, dict)
    ]
    context = {
        "delivery": delivery,
        "event_body": event_body(delivery),
        "attempts": attempts,
        "last_error": selectors.scrub(delivery.last_error),
        "may_see_failures": selectors.may_see_failures(request.user),
    }
    return render(request, "notify/delivery.html", context)


@login_required
@require_safe
def failure_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.NOTICE_MANAGE)
    if not selectors.may_see_failures(request.user):
        raise PermissionDenied
    page = Paginator(selectors.failures(), FAILURES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notify/failures.html", {"page": page})
