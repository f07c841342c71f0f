"""Qwen Voice Studio: voice cloning and dubbing on top of qwen-tts.

Importing this package is cheap: torch and qwen-tts load on first use.
"""

__version__ = "0.1.0"
