"""Page-number pagination that can take a known total instead of counting a million rows per page."""
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


class HintedPaginator(Paginator):
    def __init__(self, *args, count_hint: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_hint = count_hint

    @cached_property
    def count(self) -> int:
        return self._count_hint if self._count_hint is not None else super().count


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        hint = getattr(view, "count_hint", None)
        self.django_paginator_class = (
            (lambda *args, **kwargs: HintedPaginator(*args, count_hint=hint, **kwargs)) if hint is not None else Paginator
        )
        return super().paginate_queryset(queryset, request, view)
