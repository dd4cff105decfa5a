from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from organisations import queries


@login_required
def home(request):
    """Start page: the user's units and roles."""
    memberships = queries.own_memberships(request.user)
    return render(request, "frontend/home.html", {"memberships": memberships})
