"""Staff operations: roles, key change campaigns, meter imports, reports and reconciliation."""
