"""Text processing: sentence splitting and keyword extraction."""
