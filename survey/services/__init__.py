"""Plain functions that the views and CLI call; they never read the request."""
