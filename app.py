"""Serve askpain: `python app.py` (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, default 127.0.0.1:7860)."""

from askpain.web.server import main

if __name__ == "__main__":
    main()
