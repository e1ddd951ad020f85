"""The tools in toolbar order."""

from __future__ import annotations

from app.tools.base import Tool, ToolContext
from app.tools.brushes import BrushTool, EraserTool, InstanceBrushTool, RerollBrushTool, StyleBrushTool
from app.tools.fills import FillTool, LassoTool, RectangleTool
from app.tools.pickers import EyedropperTool, RegionPickerTool

TOOL_CLASSES: tuple[type[Tool], ...] = (
    BrushTool,
    EraserTool,
    FillTool,
    LassoTool,
    RectangleTool,
    InstanceBrushTool,
    EyedropperTool,
    RegionPickerTool,
    RerollBrushTool,
    StyleBrushTool,
)


def make_tools(ctx: ToolContext) -> dict[str, Tool]:
    return {cls.name: cls(ctx) for cls in TOOL_CLASSES}
