import json

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from idempotency.views import IdempotentMixin
from journal import selectors, services
from journal.serializers import (
    EntryInputSerializer,
    EntrySerializer,
    PageQuerySerializer,
    UsageSerializer,
    parse_page_query,
)
from ops.openapi import IDEMPOTENCY_KEY, RETRY_AFTER, UNAUTHORIZED, error
from ops.serializers import represent, represent_many
from ops.throttling import UserWriteThrottle

ENTRY_PAGE = inline_serializer(
    "EntryPage",
    fields={
        "count": serializers.IntegerField(help_text="Entries of the user in all."),
        "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
        "previous": serializers.URLField(allow_null=True, help_text="The previous page, if any."),
        "results": EntrySerializer(many=True),
    },
)
ENTRY_NOT_FOUND = error("No such entry of this user (`entry_not_found`).")
ENTRY_TOO_LARGE = error(
    "`content` is over `JOURNAL_MAX_ENTRY_BYTES` UTF-8 bytes (`entry_too_large`)."
)
QUOTA_EXCEEDED = error("The write would take the user past their quota (`quota_exceeded`).")
WRITES_THROTTLED = error(
    "Too many journal writes by this user (`throttled`, `THROTTLE_WRITE_RATE`); `Retry-After` "
    "says when to try again."
)
BAD_CONTENT = error(
    "`content` is missing, empty or not a string, or the body is not JSON (`invalid`)."
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


class JournalWriteView(IdempotentMixin, APIView):
    """Journal views whose writes count against the user's ``THROTTLE_WRITE_RATE`` and honour
    ``Idempotency-Key``."""

    throttle_classes = [UserWriteThrottle]
    throttle_scope = "write"


class EntryListView(JournalWriteView):
    @extend_schema(
        operation_id="list_entries",
        tags=["journal"],
        summary="The user's entries, newest first",
        parameters=[PageQuerySerializer],
        responses={
            200: ENTRY_PAGE,
            400: error("`limit` or `offset` is not a valid number (`invalid`)."),
            401: UNAUTHORIZED,
        },
    )
    def get(self, request):
        limit, offset = parse_page_query(request.query_params)
        count, entries = selectors.list_journal_entries(
            user=request.user, limit=limit, offset=offset
        )
        next_url, previous_url = _page_links(request, count=count, limit=limit, offset=offset)
        return Response(
            {
                "count": count,
                "next": next_url,
                "previous": previous_url,
                "results": represent_many(EntrySerializer, entries),
            }
        )

    @extend_schema(
        operation_id="create_entry",
        tags=["journal"],
        summary="Write a new entry",
        request=EntryInputSerializer,
        responses={
            201: EntrySerializer,
            400: BAD_CONTENT,
            401: UNAUTHORIZED,
            403: QUOTA_EXCEEDED,
            413: ENTRY_TOO_LARGE,
            429: WRITES_THROTTLED,
        },
        parameters=[RETRY_AFTER, IDEMPOTENCY_KEY],
    )
    def post(self, request):
        data = EntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.insert_journal_entry(user=request.user, **data.validated_data)
        return Response(represent(EntrySerializer, entry), status=status.HTTP_201_CREATED)


class EntryDetailView(JournalWriteView):
    @extend_schema(
        operation_id="get_entry",
        tags=["journal"],
        summary="One entry",
        responses={200: EntrySerializer, 401: UNAUTHORIZED, 404: ENTRY_NOT_FOUND},
    )
    def get(self, request, entry_id):
        entry = selectors.get_journal_entry(user=request.user, entry_id=entry_id)
        return Response(represent(EntrySerializer, entry))

    @extend_schema(
        operation_id="update_entry",
        tags=["journal"],
        summary="Replace an entry's content",
        description="An update that shrinks the entry is always allowed.",
        request=EntryInputSerializer,
        responses={
            200: EntrySerializer,
            400: BAD_CONTENT,
            401: UNAUTHORIZED,
            403: QUOTA_EXCEEDED,
            404: ENTRY_NOT_FOUND,
            413: ENTRY_TOO_LARGE,
            429: WRITES_THROTTLED,
        },
        parameters=[RETRY_AFTER, IDEMPOTENCY_KEY],
    )
    def patch(self, request, entry_id):
        data = EntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.update_journal_entry(
            user=request.user, entry_id=entry_id, **data.validated_data
        )
        return Response(represent(EntrySerializer, entry))

    @extend_schema(
        operation_id="delete_entry",
        tags=["journal"],
        summary="Delete an entry",
        responses={
            204: OpenApiResponse(description="Deleted; its bytes are given back."),
            401: UNAUTHORIZED,
            404: ENTRY_NOT_FOUND,
            429: WRITES_THROTTLED,
        },
        parameters=[RETRY_AFTER, IDEMPOTENCY_KEY],
    )
    def delete(self, request, entry_id):
        services.delete_journal_entry(user=request.user, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UsageView(APIView):
    @extend_schema(
        operation_id="journal_usage",
        tags=["journal"],
        summary="Bytes used against the user's quota",
        responses={200: UsageSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        return Response(UsageSerializer(selectors.journal_usage(user=request.user)).data)


def _export_chunks(entries):
    yield "["
    for index, entry in enumerate(entries):
        data = represent(EntrySerializer, entry)
        yield ("," if index else "") + json.dumps(data, cls=JSONEncoder)
    yield "]"


class ExportView(APIView):
    """Every entry as one JSON array, streamed: memory stays flat whatever the journal's size,
    and it works whatever the subscription state (users keep their data)."""

    @extend_schema(
        operation_id="export_journal",
        tags=["journal"],
        summary="Every entry, as one JSON array (streamed)",
        description="Works whatever the subscription state. Sent as an attachment.",
        responses={
            200: OpenApiResponse(EntrySerializer(many=True), description="Every entry."),
            401: UNAUTHORIZED,
        },
    )
    def get(self, request):
        # Called here, inside the request: the entries' database is chosen where
        # read-your-writes still holds, and kept while the response streams.
        entries = selectors.iter_journal_entries(user=request.user)
        response = StreamingHttpResponse(
            _export_chunks(entries),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="journal.json"'
        return response
