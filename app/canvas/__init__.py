"""Views: the label canvas and the output view (rendering and navigation only)."""
