import json

from django.http import StreamingHttpResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from journal import selectors, services
from journal.serializers import (
    EntryInputSerializer,
    EntrySerializer,
    PageQuerySerializer,
    UsageSerializer,
)


def _page_links(request, *, count: int, limit: int, offset: int) -> tuple[str | None, ...]:
    url = replace_query_param(request.build_absolute_uri(), "limit", limit)
    next_url = None
    if offset + limit < count:
        next_url = replace_query_param(url, "offset", offset + limit)
    previous_url = None
    if offset > 0:
        previous_offset = max(offset - limit, 0)
        previous_url = (
            replace_query_param(url, "offset", previous_offset)
            if previous_offset
            else remove_query_param(url, "offset")
        )
    return next_url, previous_url


class EntryListView(APIView):
    def get(self, request):
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        count, entries = selectors.list_journal_entries(
            user=request.user, limit=limit, offset=offset
        )
        next_url, previous_url = _page_links(request, count=count, limit=limit, offset=offset)
        return Response(
            {
                "count": count,
                "next": next_url,
                "previous": previous_url,
                "results": EntrySerializer(entries, many=True).data,
            }
        )

    def post(self, request):
        data = EntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.insert_journal_entry(user=request.user, **data.validated_data)
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailView(APIView):
    def get(self, request, entry_id):
        entry = selectors.get_journal_entry(user=request.user, entry_id=entry_id)
        return Response(EntrySerializer(entry).data)

    def patch(self, request, entry_id):
        data = EntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.update_journal_entry(
            user=request.user, entry_id=entry_id, **data.validated_data
        )
        return Response(EntrySerializer(entry).data)

    def delete(self, request, entry_id):
        services.delete_journal_entry(user=request.user, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UsageView(APIView):
    def get(self, request):
        return Response(UsageSerializer(selectors.journal_usage(user=request.user)).data)


def _export_chunks(entries):
    yield "["
    for index, entry in enumerate(entries):
        yield ("," if index else "") + json.dumps(EntrySerializer(entry).data, cls=JSONEncoder)
    yield "]"


class ExportView(APIView):
    """Every entry as one JSON array, streamed: memory stays flat whatever the journal's size,
    and it works whatever the subscription state (users keep their data)."""

    def get(self, request):
        response = StreamingHttpResponse(
            _export_chunks(selectors.iter_journal_entries(user=request.user)),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="journal.json"'
        return response
