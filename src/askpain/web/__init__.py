"""The web: the service the page calls, the patient page, the staff area, and the server."""
