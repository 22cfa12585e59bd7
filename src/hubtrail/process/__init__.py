"""process: applies inbox messages to the CRM state (identity, properties, events)."""
