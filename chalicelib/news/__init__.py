"""News (NT-4): topics, subscriptions, publications by editors and their fan-out to subscribers (docs/news.md)."""
