"""The shape both of this package's middlewares share: something before the rest
of the request, something after its response, served the same under WSGI (sync)
and under the ASGI server (async, without a hop through a thread)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class AroundRequest:
    """Subclasses give :meth:`before` (its result is handed to :meth:`after`) and :meth:`after`."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def before(self, request) -> Any:
        return None

    def after(self, request, response, before: Any):
        return response

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        state = self.before(request)
        return self.after(request, self.get_response(request), state)

    async def __acall__(self, request):
        state = self.before(request)
        return self.after(request, await self.get_response(request), state)
