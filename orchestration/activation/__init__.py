"""Activation: segment definitions, membership, destinations and diff syncs (issue 5)."""
