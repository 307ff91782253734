"""Placeholder until this module is written in this session; replaced, never shipped."""

from django.http import Http404


def core_list(request, **kwargs):
    raise Http404


def core_detail(request, **kwargs):
    raise Http404


def phase_advance(request, **kwargs):
    raise Http404


def phase_back(request, **kwargs):
    raise Http404


def milestone_done(request, **kwargs):
    raise Http404


def milestone_reopen(request, **kwargs):
    raise Http404
