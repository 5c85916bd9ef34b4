"""The default config (YAML), shipped in the wheel as ``workers.bundled.config``."""
