from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from microcred.earning.selectors import dashboard_context
from microcred.orgs.selectors import next_steps_for


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/dashboard.html",
        {"steps": next_steps_for(request.user), **dashboard_context(request.user)},
    )
