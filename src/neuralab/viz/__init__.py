"""Pictures: static matplotlib figures (functions return figures; callers save them)."""
