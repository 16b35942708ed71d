"""HTTP: health, metrics and the admin/session API, the page, CORS."""
