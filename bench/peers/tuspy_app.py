"""tuspyserver mounted in a bare FastAPI app, storing to ``DATA_DIR`` (bench/upload's peer).

Run with ``uvicorn tuspy_app:app --host 127.0.0.1 --port PORT`` from this folder.
"""

import os

from fastapi import FastAPI
from tuspyserver import create_tus_router

app = FastAPI()
app.include_router(create_tus_router(prefix="files", files_dir=os.environ["DATA_DIR"]))
