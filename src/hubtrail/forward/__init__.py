"""Forwarding to HubSpot (or any HubSpot-compatible target): wire format, senders, engine."""
