"""Single sign-on (issue 15): Kabinet as the OpenID Connect provider of other state systems (docs/sso.md)."""
