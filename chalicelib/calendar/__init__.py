"""The calendar (NT-5): a person's dated things, written by their producers into the person's partition."""
