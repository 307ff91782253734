"""Placeholder until this module is written in this session; replaced, never shipped."""

from django.http import Http404


def invitation_list(request, **kwargs):
    raise Http404


def invitation_add(request, **kwargs):
    raise Http404


def invitation_detail(request, **kwargs):
    raise Http404


def invite_person(request, **kwargs):
    raise Http404
