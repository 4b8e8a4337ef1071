"""recunlearn."""
