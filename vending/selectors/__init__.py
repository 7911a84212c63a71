"""Read-side queries: keyword-only, typed functions returning rows or values."""
