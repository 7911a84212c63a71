"""Write-side use cases: keyword-only, typed functions; the only place business rules live."""
