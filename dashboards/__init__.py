"""The dashboards' saved objects, shipped in the wheel as ``workers.bundled.dashboards``."""
