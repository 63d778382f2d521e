"""Build real `/_dash-update-component` requests from an app's callback map.

Used by tests that act like a client posting by hand, bypassing the browser.
"""
from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

CSRF_COOKIE = "_csrf_token"  # auth.login.DASH_CSRF_COOKIE, Dash's default csrf_token_name


class RendererClient(FlaskClient):
    """A test client that sends what dash_renderer sends: `X-CSRFToken` from the `_csrf_token` cookie on
    Dash's own requests. Tests act like the browser; tests of the CSRF refusal use a plain FlaskClient."""

    def open(self, *args, **kwargs):
        path = args[0] if args and isinstance(args[0], str) else ""
        cookie = self.get_cookie(CSRF_COOKIE)
        if path.startswith("/_dash-") and cookie is not None:
            headers = Headers(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", cookie.value)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def _split(key: str) -> list[tuple[str, str]]:
    """'..a.b...c.d..' or 'a.b' → [('a', 'b'), ('c', 'd')]."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def callback_payload(app, output_key: str, values: dict[str, object]) -> dict:
    """A request body for callback `output_key`; `values` maps 'id.prop' to its value."""
    spec = app.callback_map[output_key]
    multi = output_key.startswith("..")
    outputs = [{"id": i, "property": p} for i, p in _split(output_key)]

    def items(deps):
        return [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                for d in deps]

    return {
        "output": output_key,
        "outputs": outputs if multi else outputs[0],
        "inputs": items(spec["inputs"]),
        "state": items(spec.get("state", [])),
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in spec["inputs"]],
    }


def call(client, app, output_key: str, values: dict[str, object]):
    """POST the callback; returns (status code, response JSON or None)."""
    resp = client.post("/_dash-update-component", json=callback_payload(app, output_key, values))
    return resp.status_code, (resp.get_json(silent=True) if resp.status_code == 200 else None)


def find_output(app, component_id: str, prop: str) -> str:
    """The callback-map key of the callback that writes `component_id.prop`."""
    for key in app.callback_map:
        if (component_id, prop) in _split(key):
            return key
    raise KeyError(f"no callback writes {component_id}.{prop}")
