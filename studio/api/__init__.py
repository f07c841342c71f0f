"""The studio's HTTP API: GPT-SoVITS (api_v2, api.py) and OpenAI compatible routes, and its own.

``create_api(engine)`` builds the FastAPI app; ``run_server`` serves it with
uvicorn; ``serve_in_thread`` serves it in the background (the UI's API switch).
"""

from .app import create_api
from .server import BackgroundServer, make_server, run_server, serve_in_thread

__all__ = ["BackgroundServer", "create_api", "make_server", "run_server", "serve_in_thread"]
