"""hubtrail: a self-hosted, HubSpot-compatible visitor-tracking and customer-data service."""
