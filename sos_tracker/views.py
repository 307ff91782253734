from django.shortcuts import render

from sos_tracker import dashboard


def home(request):
    """The network dashboard: people by status, story and sector, the cores side by side,
    check-ins per month and capacity growth (read by sos_tracker.dashboard)."""
    return render(request, "home.html", dashboard.network_dashboard(request.user))
