"""Page-number pagination that can take a known total instead of counting a million rows per page."""
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class HintedPaginator(Paginator):
    def __init__(self, *args, count_hint: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_hint = count_hint

    @cached_property
    def count(self) -> int:
        return self._count_hint if self._count_hint is not None else super().count


def is_whole_number(raw: str) -> bool:
    """ASCII digits only ("²".isdigit() is true, int() of it fails), and short enough to be a database integer."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def whole_number_param(request, name: str, *, maximum: int | None = None) -> int | None:
    """A query parameter that must be a whole number from 1 (up to `maximum`), or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not is_whole_number(raw) or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        raise ValidationError({name: [f"must be a whole number from 1{f' to {maximum}' if maximum else ''}"]})
    return int(raw)


class PagePagination(PageNumberPagination):
    """A bad `page` or `page_size` is a 400 naming it, not silently the first page or the default size."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        hint = getattr(view, "count_hint", None)
        self.django_paginator_class = (
            (lambda *args, **kwargs: HintedPaginator(*args, count_hint=hint, **kwargs)) if hint is not None else Paginator
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request) -> int:
        return whole_number_param(request, self.page_size_query_param, maximum=self.max_page_size) or self.page_size

    def get_page_number(self, request, paginator) -> int:
        return whole_number_param(request, self.page_query_param) or 1
