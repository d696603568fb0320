"""`make bench`, part `oidc`: the gate beside oidc-client-ts and auth0-spa-js, all signing in
with one real OpenID Connect provider (oidc-provider, tests/oidc/provider.mjs) that rotates
refresh tokens and revokes the whole grant when a spent one comes back.

`stack` starts the provider and the server, each behind a delay line; `pages` drives one
contestant's tabs; `scenarios` runs the races and the one-tab scenarios; `tables` writes
the figures into bench/results.md.
"""
