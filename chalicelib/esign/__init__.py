"""Qualified electronic signature (issue 11, section 6): certificate checks, later binding and sign-in."""
