"""Build real `/_dash-update-component` requests from an app's callback map.

Used by tests that act like a client posting by hand, bypassing the browser.
"""
from __future__ import annotations


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
