"""Placeholder until this module is written in this session; replaced, never shipped."""

from django.http import Http404


def review_queue(request, **kwargs):
    raise Http404


def review_item(request, **kwargs):
    raise Http404


def review_skip(request, **kwargs):
    raise Http404
