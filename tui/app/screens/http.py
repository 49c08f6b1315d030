"""`h`: an HTTP request to the Ingress controller, played in the Trace pane (a part of :class:`MainScreen`)."""

from __future__ import annotations

from ..lazy import lazy

form = lazy("tui.app.forms.form")


class HttpMixin:
    """The HTTP request form and its result in the Trace pane."""

    http_request: dict | None = None

    def has_ingress(self) -> bool:
        from ..scale import facts_of

        net = self._net
        return net is not None and facts_of(net).has_ingress  # asked on every key: once per network

    def action_http(self) -> None:
        from ..forms import http

        def submit(values: dict) -> dict[str, str] | None:
            request, errors = http.check(self.net, values)
            if request is None:
                return errors
            error = self.run_http(request)
            if error and error.startswith("--from "):
                return {"client": error.partition(": ")[2]}
            return {"": error} if error else None

        note = "The controller picks the rule by the Host header and the path, the certificate by SNI; the packets go " \
               "from the client to the controller's Service, then from the controller to a pod of the backend."
        self.app.push_screen(form.FormScreen("Send an HTTP request through the Ingress controller", http.fields(self.net, self.http_request),
                                        submit, form_id="http-form", compact=True, note=note))

    def run_http(self, request: dict, keep_step: bool = False) -> str | None:
        """Send ``request`` and play it in the Trace pane; the error when it cannot be sent."""
        from ...ingress.request import RequestError, send
        from ..widgets.http_view import marks, title
        from ..widgets.trace_pane import TracePane

        pane = self.query_one(TracePane)
        try:
            ex = send(self.net.topology, request["url"], request.get("host"), request.get("client"), request.get("class"), net=self.net)
        except RequestError as e:
            if keep_step:  # the model changed under a request that was fine: say why it no longer goes
                pane.load(None, f"HTTP GET {request['url']}", error=f"cannot send: {e}", keep_step=True)
            return str(e)
        self.trace_request = None
        self.http_request = request
        pane.load(None, title(ex, request["url"], request.get("host")), keep_step=keep_step, play=not keep_step and self.app.animate_traces,
                  exchange=ex, marks=marks(ex, self.net.topology.objects))
        self.refresh_bindings()
        if not keep_step:
            self.class_did("http", request)
        return None
