"""Browsable documentation at /api/v1/docs, rendered on the server from the OpenAPI document.

A node often runs where there is no network: the page loads nothing from anywhere (no CDN, no
script, no font), only inline CSS. Operations are grouped by tag, each with the roles that may
call it, its parameters, its request body and its responses; schemas are listed at the end and
every `$ref` is a link to one of them.
"""

from __future__ import annotations

from html import escape
from typing import Any

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1f24}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #d0d7de;padding-top:1rem}
.op{border:1px solid #d0d7de;border-radius:6px;margin:.8rem 0;padding:.5rem .9rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.GET{color:#0969da}.POST{color:#1a7f37}.DELETE{color:#cf222e}
code,.path{font-family:ui-monospace,monospace} .path{font-weight:600}
table{border-collapse:collapse;margin:.3rem 0}
td,th{border:1px solid #d0d7de;padding:.15rem .5rem;text-align:left;vertical-align:top}
.roles{color:#57606a;font-size:.9em} .desc{white-space:pre-wrap}
"""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any] | None) -> str:
    """Returns a short HTML rendering of a schema's type, `$ref`s as links."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = escape(_ref_name(str(schema["$ref"])))
        return f'<a href="#schema-{name}">{name}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(_type(s) for s in schema[key])
    t = schema.get("type")
    if t == "array":
        return f"list of {_type(schema.get('items'))}"
    if t == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type(schema['additionalProperties'])}"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(repr(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(repr(schema['const']))}</code>"
    text = escape(str(t or "any"))
    if "format" in schema:
        text += f" ({escape(str(schema['format']))})"
    if "pattern" in schema:
        text += f" <code>{escape(str(schema['pattern']))}</code>"
    return text


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    m = method.upper()
    roles = op.get("x-accord-roles") or []
    who = "anyone" if not roles else ", ".join(roles)
    parts = [
        f'<div class="op" id="{escape(op.get("operationId", m + path))}">',
        f'<span class="m {m}">{m}</span> <span class="path">{escape(path)}</span>',
        f"<div>{escape(op.get('summary', ''))}</div>",
        f'<div class="roles">roles: {escape(who)}</div>',
    ]
    desc = op.get("description")
    if desc:
        parts.append(f'<div class="desc">{escape(desc)}</div>')
    params = op.get("parameters") or []
    if params:
        parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>")
        for p in params:
            parts.append(
                f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
                f"<td>{_type(p.get('schema'))}</td><td>{'yes' if p.get('required') else 'no'}</td></tr>"
            )
        parts.append("</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        parts.append(f"<div>body: {_type(body.get('schema'))}</div>")
    parts.append("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>")
    for status, resp in sorted(op.get("responses", {}).items()):
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        parts.append(
            f"<tr><td>{escape(str(status))}</td><td>{escape(resp.get('description', ''))}</td>"
            f"<td>{_type(schema) if schema else ''}</td></tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    parts = [f'<div class="op" id="schema-{escape(name)}"><span class="path">{escape(name)}</span>']
    if schema.get("description"):
        parts.append(f'<div class="desc">{escape(str(schema["description"]))}</div>')
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    if props:
        parts.append("<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>")
        for field, sub in props.items():
            parts.append(
                f"<tr><td><code>{escape(field)}</code></td><td>{_type(sub)}</td>"
                f"<td>{'yes' if field in required else 'no'}</td>"
                f"<td>{escape(str(sub.get('description', '')))}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(f"<div>{_type(schema)}</div>")
    parts.append("</div>")
    return "".join(parts)


def render(doc: dict[str, Any], openapi_url: str) -> str:
    """Returns the documentation page of an OpenAPI document."""
    info = doc.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(path, method, op))
    servers = doc.get("servers") or [{"url": ""}]
    base = escape(str(servers[0].get("url", "")))
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))}</h1>",
        f"<p>version {escape(str(info.get('version', '')))} · paths below are under "
        f"<code>{base or '/'}</code> · the document itself: "
        f'<a href="{escape(openapi_url)}">{escape(openapi_url)}</a></p>',
        f'<div class="desc">{escape(info.get("description", ""))}</div>',
        "<nav><ul>",
        *(f'<li><a href="#tag-{escape(t)}">{escape(t)}</a></li>' for t in by_tag),
        '<li><a href="#schemas">schemas</a></li></ul></nav>',
    ]
    for tag, ops in by_tag.items():
        out.append(f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>')
        out.extend(ops)
    out.append('<h2 id="schemas">schemas</h2>')
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        out.append(_schema(name, schema))
    out.append("</body></html>")
    return "\n".join(out)
