"""Serve the patient page at / and, when staff credentials are set, the staff area at /staff.

Safe by default: 127.0.0.1, no share link, no extra file paths, small uploads, no run
history, no monitoring or analytics, a bounded queue, and no patient text written to disk.
"""

from __future__ import annotations

import hmac
import logging
import os
from dataclasses import dataclass

# Before gradio is imported: no usage analytics, no hub lookups.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from askpain.settings import Settings  # noqa: E402
from askpain.web.patient import CSS, build_patient_page  # noqa: E402
from askpain.web.service import Service  # noqa: E402
from askpain.web.staff import build_staff_page  # noqa: E402

log = logging.getLogger(__name__)

QUEUE_SIZE = 64  # waiting requests beyond this are refused with a "busy" message
CONCURRENCY = 2  # answers computed at once (2 cores)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    staff_user: str | None = None
    staff_password: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("GRADIO_SERVER_NAME") or "127.0.0.1",
            port=int(env.get("GRADIO_SERVER_PORT") or 7860),
            staff_user=env.get("ASKPAIN_STAFF_USER") or None,
            staff_password=env.get("ASKPAIN_STAFF_PASSWORD") or None,
        )

    @property
    def staff_enabled(self) -> bool:
        return bool(self.staff_user and self.staff_password)


def _staff_login(server: ServerSettings):
    def check(user: str, password: str) -> bool:
        # Constant-time comparison: no timing hints about the credentials.
        ok_user = hmac.compare_digest(user.encode(), (server.staff_user or "").encode())
        ok_password = hmac.compare_digest(password.encode(), (server.staff_password or "").encode())
        return ok_user and ok_password

    return check


def create_app(service: Service, server: ServerSettings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    common = dict(
        run_history=False,
        allowed_paths=[],
        show_error=False,
        ssr_mode=False,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        footer_links=[],
        css=CSS,
    )
    if server.staff_enabled:
        staff = build_staff_page(service).queue(max_size=8, default_concurrency_limit=1, api_open=False)
        app = gr.mount_gradio_app(
            app,
            staff,
            path="/staff",
            auth=_staff_login(server),
            auth_message="askpain staff area",
            max_file_size="1mb",
            **common,
        )
    patient = build_patient_page(service).queue(
        max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY, api_open=False
    )
    return gr.mount_gradio_app(app, patient, path="", max_file_size="1kb", **common)


def main() -> None:
    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = ServerSettings.from_env()
    service = Service.open(Settings.from_env())
    app = create_app(service, server)
    where = f"http://{server.host}:{server.port}/"
    staff = (
        f"{where}staff" if server.staff_enabled else "off (set ASKPAIN_STAFF_USER and ASKPAIN_STAFF_PASSWORD)"
    )
    print(f"askpain chat page: {where}\nstaff area: {staff}", flush=True)
    # access_log off: request lines would carry nothing of the message, but keep logs minimal.
    uvicorn.run(app, host=server.host, port=server.port, log_level="warning", access_log=False)
