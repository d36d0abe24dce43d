"""The API's OpenAPI schema class: drf-spectacular's, plus the error answers every view can give.

Each operation documents 400 (``{field: [message]}``, also for bad filters), 401 and 403
(``{"detail": message}``), 404 when its path names a row (a hidden or missing row is 404), and 415
when it takes a body (a content type none of its parsers reads).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {"type": "object", "additionalProperties": {}}


def _error(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        bodies.setdefault("400", _error("输入有误", _FIELD_ERRORS))
        bodies.setdefault("401", _error("未登录", _DETAIL))
        bodies.setdefault("403", _error("无权操作", _DETAIL))
        if "{" in self.path:
            bodies.setdefault("404", _error("不存在或无权查看", _DETAIL))
        if self.method in ("POST", "PUT", "PATCH"):
            bodies.setdefault("415", _error("不支持的请求格式", _DETAIL))
        return bodies
